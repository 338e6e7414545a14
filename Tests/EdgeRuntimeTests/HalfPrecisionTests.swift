// --precision fp16: weights rounded through binary16, arithmetic in fp32, checked against the fp32 path run
// on weights rounded by hand; and models whose initializers are float16 load and run.
@testable import EdgeRuntime
import XCTest

final class HalfPrecisionTests: XCTestCase {
    func convGraph(weights: Tensor, name: String = "w", extraNodes: [Node] = [], weightInput: String = "w") -> Graph {
        Graph(name: "fp16", nodes: extraNodes + [
            Node(opType: "Conv", domain: "", name: "conv", inputs: ["x", weightInput], outputs: ["y"],
                 attributes: ["pads": .ints([1, 1, 1, 1])], opsetVersion: 17),
        ], initializers: [name: weights], initializerOrder: [name],
        inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32, shape: [.fixed(1), .fixed(2), .fixed(5), .fixed(5)])],
        outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
        opsetVersion: 17, irVersion: 8, producer: "test")
    }

    func testFp16WeightsEqualFp32RunOnRoundedWeights() throws {
        var rng = KernelRNG(seed: 11)
        let w = rng.floats(3 * 2 * 9).map { $0 * 0.7 + 1e-4 }
        let rounded = w.map { Float(Float16($0)) }
        XCTAssertNotEqual(w, rounded)   // the rounding is visible, so the test can tell the paths apart
        let x = Tensor(shape: [1, 2, 5, 5], floats: rng.floats(50))
        let model = Model(graph: convGraph(weights: Tensor(shape: [3, 2, 3, 3], floats: w)))
        let fp16 = try model.prepare(options: PrepareOptions(precision: .fp16)).run([x])[0].floats()
        let fp32 = try model.prepare().run([x])[0].floats()
        let byHand = try Model(graph: convGraph(weights: Tensor(shape: [3, 2, 3, 3], floats: rounded))).prepare().run([x])[0].floats()
        XCTAssertEqual(fp16, byHand)
        XCTAssertNotEqual(fp16, fp32)
        for (a, b) in zip(fp16, fp32) { XCTAssertEqual(a, b, accuracy: 5e-3) }

        let converted = model.converted(to: .fp16)
        XCTAssertNil(converted.graph.initializers["w"])
        XCTAssertEqual(converted.graph.initializers["w::fp16"]?.type, .float16)
        XCTAssertEqual(try converted.prepare().run([x])[0].floats(), byHand)
    }

    func testModelWithFloat16InitializerLoadsAndRuns() throws {
        var rng = KernelRNG(seed: 12)
        let w = rng.floats(3 * 2 * 9)
        let half = Tensor(type: .float16, shape: [3, 2, 3, 3])
        for (i, v) in w.enumerated() { half.pointer(as: Float16.self)[i] = Float16(v) }
        let cast = Node(opType: "Cast", domain: "", name: "cast", inputs: ["w16"], outputs: ["w32"],
                        attributes: ["to": .int(1)], opsetVersion: 17)
        let bytes = try ONNXGraphWriter.encode(convGraph(weights: half, name: "w16", extraNodes: [cast], weightInput: "w32"))
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.graph.initializers["w16"]?.type, .float16)
        let x = Tensor(shape: [1, 2, 5, 5], floats: rng.floats(50))
        let got = try model.prepare().run([x])[0].floats()
        let want = try Model(graph: convGraph(weights: Tensor(shape: [3, 2, 3, 3], floats: w.map { Float(Float16($0)) })))
            .prepare().run([x])[0].floats()
        XCTAssertEqual(got, want)
    }
}
