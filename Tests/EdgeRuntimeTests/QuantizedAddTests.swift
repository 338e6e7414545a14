// The fused residual add (DQ + DQ [-> Relu] -> Q as one QAdd node) against the unfused graph, which runs the
// ONNX nodes one by one in float: the fused bytes must be identical, with and without Relu and broadcasting.
@testable import EdgeRuntime
import XCTest

final class QuantizedAddTests: XCTestCase {
    func scalar<T>(_ type: ElementType, _ v: T) -> Tensor {
        let t = Tensor(type: type, shape: [])
        t.raw.assumingMemoryBound(to: T.self)[0] = v
        return t
    }

    func node(_ op: String, _ inputs: [String], _ outputs: [String]) -> Node {
        Node(opType: op, domain: "", name: outputs[0] + "_node", inputs: inputs, outputs: outputs, attributes: [:], opsetVersion: 17)
    }

    /// a, b -> Q -> DQ -> Add [-> Relu] -> Q -> DQ -> y, scales chosen so sums land on many rounding cases.
    func model(relu: Bool, bShape: [Int], type: ElementType) throws -> Model {
        let aShape = [2, 3, 4, 5]
        let zero: (Int) -> Tensor = { v in type == .uint8 ? self.scalar(.uint8, UInt8(v + 128)) : self.scalar(.int8, Int8(v)) }
        var inits: [(String, Tensor)] = [
            ("as", Tensor(shape: [], floats: [0.013])), ("az", zero(-7)),
            ("bs", Tensor(shape: [], floats: [0.021])), ("bz", zero(11)),
            ("ys", Tensor(shape: [], floats: [0.017])), ("yz", zero(relu ? -128 : 3)),
        ]
        inits.sort { $0.0 < $1.0 }
        var nodes = [
            node("QuantizeLinear", ["a", "as", "az"], ["aq"]), node("DequantizeLinear", ["aq", "as", "az"], ["ad"]),
            node("QuantizeLinear", ["b", "bs", "bz"], ["bq"]), node("DequantizeLinear", ["bq", "bs", "bz"], ["bd"]),
            node("Add", ["ad", "bd"], ["sum"]),
        ]
        if relu { nodes.append(node("Relu", ["sum"], ["r"])) }
        nodes.append(node("QuantizeLinear", [relu ? "r" : "sum", "ys", "yz"], ["yq"]))
        nodes.append(node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]))
        func declare(_ name: String, _ shape: [Int]) -> ValueDeclaration {
            ValueDeclaration(name: name, isTensor: true, type: .float32, shape: shape.map { .fixed($0) })
        }
        let graph = Graph(name: "qadd", nodes: nodes, initializers: Dictionary(uniqueKeysWithValues: inits),
                          initializerOrder: inits.map { $0.0 }, inputs: [declare("a", aShape), declare("b", bShape)],
                          outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
                          opsetVersion: 17, irVersion: 8, producer: "test")
        return try Model(bytes: try ONNXGraphWriter.encode(graph))
    }

    func check(relu: Bool, bShape: [Int], type: ElementType, line: UInt = #line) throws {
        let m = try model(relu: relu, bShape: bShape, type: type)
        var rng = KernelRNG(seed: 5)
        // rng.float() is in [-1, 1).
        let a = Tensor(shape: [2, 3, 4, 5], floats: (0..<120).map { _ in 1.5 * rng.float() })
        let b = Tensor(shape: bShape, floats: (0..<shapeCount(bShape)).map { _ in 2 * rng.float() })
        let fused = try m.prepare()
        XCTAssertTrue(fused.stepOperators.contains("QAdd"), "\(fused.stepOperators)", line: line)
        XCTAssertFalse(fused.stepOperators.contains("Add"), line: line)
        let unfused = try m.prepare(options: PrepareOptions(fuseQuantized: false))
        XCTAssertTrue(unfused.stepOperators.contains("Add"), line: line)
        let got = try fused.run([a, b])[0].floats(), want = try unfused.run([a, b])[0].floats()
        XCTAssertEqual(got, want, line: line)
        // Not a constant output, and Relu clipped something when present.
        XCTAssertGreaterThan(Set(want).count, 15, line: line)
        if relu { XCTAssertTrue(want.contains(0), line: line) } else { XCTAssertTrue(want.contains { $0 < 0 }, line: line) }
    }

    func testFusedAddEqualsUnfusedGraph() throws {
        try check(relu: true, bShape: [2, 3, 4, 5], type: .uint8)
        try check(relu: false, bShape: [2, 3, 4, 5], type: .int8)
        try check(relu: true, bShape: [1, 3, 1, 1], type: .int8)     // broadcast operand
        try check(relu: false, bShape: [5], type: .uint8)
        try check(relu: true, bShape: [2, 3, 4, 5], type: .int8)
        try check(relu: true, bShape: [1, 3, 1, 1], type: .uint8)
    }
}
