// --precision fp16: weights stored as binary16, arithmetic in fp32, checked against the fp32 path run on weights
// rounded by hand; the weight bytes a session holds; and fp16 ONNX files (float16 initializers) load and run.
@testable import EdgeRuntime
import Foundation
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

        // The converted model holds the weight as binary16 only, under its own name, and the session reads it
        // as such (no fp32 copy among its constants).
        let converted = model.converted(to: .fp16)
        XCTAssertEqual(converted.graph.initializers["w"]?.type, .float16)
        XCTAssertEqual(converted.graph.initializers.count, 1)
        let session = try converted.prepare()
        XCTAssertEqual(try session.run([x])[0].floats(), byHand)
        XCTAssertEqual(session.constantBytes, 3 * 2 * 9 * 2)
    }

    func testGemmReadsHalfWeightsThroughAWideningStepThatIsNeverFolded() throws {
        var rng = KernelRNG(seed: 13)
        let w = rng.floats(4 * 6), b = rng.floats(4)
        let graph = Graph(name: "gemm", nodes: [
            Node(opType: "Gemm", domain: "", name: "fc", inputs: ["x", "w", "b"], outputs: ["y"],
                 attributes: ["transB": .int(1)], opsetVersion: 17),
        ], initializers: ["w": Tensor(shape: [4, 6], floats: w), "b": Tensor(shape: [4], floats: b)],
        initializerOrder: ["w", "b"],
        inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32, shape: [.fixed(3), .fixed(6)])],
        outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
        opsetVersion: 17, irVersion: 8, producer: "test")
        let x = Tensor(shape: [3, 6], floats: rng.floats(18))
        var rounded = graph
        rounded.initializers["w"] = Tensor(shape: [4, 6], floats: w.map { Float(Float16($0)) })
        let byHand = try Model(graph: rounded).prepare().run([x])[0].floats()
        let session = try Model(graph: graph).converted(to: .fp16).prepare()
        XCTAssertEqual(try session.run([x])[0].floats(), byHand)
        XCTAssertEqual(session.stepOperators, [HalfPrecisionWeights.widenOpType, "Gemm"])
        XCTAssertEqual(session.constantBytes, 4 * 6 * 2 + 4 * 4, "binary16 weight and fp32 bias, no fp32 weight")
    }

    func testEdgeModelInFp16HoldsHalfTheWeightBytesAndKeepsItsPredictions() throws {
        let model = try Model(path: GoldenLogitsTests.repository.appendingPathComponent("models/edge.onnx").path)
        let input = try goldenFloats("models/golden/edge_batch_input.f32")
        let reference = try goldenFloats("models/golden/edge_batch_logits.f32")
        let fp32 = try model.prepare(batch: 16)
        let half = try model.forDevice(.fp16)
        XCTAssertEqual(half.nativePrecision, .fp16)
        XCTAssertEqual(half.halfPrecisionWeights, 10, "9 Conv weights and the classifier's Gemm weight")
        let fp16 = try half.prepare(batch: 16)
        // 77,754 weights and biases: the Conv/Gemm weights (77,056 elements) shrink to 2 bytes each.
        XCTAssertLessThan(Double(fp16.constantBytes), 0.52 * Double(fp32.constantBytes))
        let logits = try fp16.run([Tensor(shape: [16, 1, 28, 28], floats: input)])[0].floats()
        for (a, b) in zip(logits, reference) { XCTAssertEqual(a, b, accuracy: 2e-2) }
        XCTAssertEqual(argmaxRows(logits, 10), argmaxRows(reference, 10))
    }

    func argmaxRows(_ v: [Float], _ width: Int) -> [Int] {
        stride(from: 0, to: v.count, by: width).map { r in (0..<width).max { v[r + $0] < v[r + $1] }! }
    }

    /// fp16 files written by onnxconverter-common (models/make_fp16.py): float16 everywhere, and the same with
    /// float32 inputs and outputs. Both load as binary16 weights with fp32 arithmetic, match onnxruntime's
    /// logits for the fp16 file, and take norm-affine patches like the fp32 file.
    func testFp16FilesLoadAndMatchOnnxruntime() throws {
        let input = try goldenFloats("models/golden/edge_batch_input.f32")
        let ort = try goldenFloats("models/golden/edge_fp16_batch_logits.f32")
        let pytorch = try goldenFloats("models/golden/edge_batch_logits.f32")
        for (file, halfIO) in [("edge_fp16.onnx", true), ("edge_fp16_io32.onnx", false)] {
            let path = GoldenLogitsTests.repository.appendingPathComponent("models/golden/\(file)").path
            let model = try Model(path: path)
            XCTAssertEqual(model.nativePrecision, .fp16, file)
            XCTAssertThrowsError(try model.forDevice(.fp32), file)
            XCTAssertEqual(model.halfPrecisionWeights, 10, file)
            XCTAssertEqual(NormParameters.affineCount(of: model.graph), 672, file)
            let session = try model.forDevice(.fp16).prepare(batch: 16)
            XCTAssertEqual(session.inputTypes[0], halfIO ? .float16 : .float32, file)
            XCTAssertEqual(session.outputTypes[0], halfIO ? .float16 : .float32, file)
            let x = Tensor(type: session.inputTypes[0], shape: [16, 1, 28, 28])
            for (i, v) in input.enumerated() {
                if halfIO { x.pointer(as: Float16.self)[i] = Float16(v) } else { x.pointer(as: Float.self)[i] = v }
            }
            let out = try session.run([x])[0]
            let logits = halfIO ? (0..<out.count).map { Float(out.pointer(as: Float16.self)[$0]) } : out.floats()
            // onnxruntime rounds every activation to binary16; this runtime keeps them fp32.
            for (a, b) in zip(logits, ort) { XCTAssertEqual(a, b, accuracy: 3e-2, file) }
            for (a, b) in zip(logits, pytorch) { XCTAssertEqual(a, b, accuracy: 3e-2, file) }
            XCTAssertEqual(argmaxRows(logits, 10), argmaxRows(pytorch, 10), file)

            // A patch to a BatchNormalization scale (float16 in the file) applies and changes the output.
            let gamma = "stem.1.weight"
            XCTAssertEqual(model.graph.initializers[gamma]?.type, .float32, "norm parameters widen at load")
            let patch = ParameterPatch(modelSHA256: model.modelSHA256, baseVersion: 0, newVersion: 1,
                                       parameters: [PatchParameter(name: gamma, kind: .fp32, dims: [16],
                                                                   values: [Float](repeating: 0.5, count: 16))],
                                       createdUnixMs: 0)
            try model.apply(patch)
            let patched = try session.run([x])[0]
            XCTAssertNotEqual(patched.floats16or32(halfIO), out.floats16or32(halfIO), file)
        }
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

/// A float32 file of models/golden, as GoldenLogitsTests reads it.
private func goldenFloats(_ relative: String) throws -> [Float] {
    let data = try Data(contentsOf: GoldenLogitsTests.repository.appendingPathComponent(relative))
    return data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

private extension Tensor {
    func floats16or32(_ half: Bool) -> [Float] {
        half ? (0..<count).map { Float(pointer(as: Float16.self)[$0]) } : floats()
    }
}
