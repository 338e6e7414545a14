// The fused residual add (DQ + DQ [-> Relu] -> Q as one QAdd node) against the unfused graph, which runs the
// ONNX nodes one by one in float: the fused bytes must be identical, with and without Relu and broadcasting.
import CEdgeShim
@testable import EdgeRuntime
import XCTest

final class QuantizedAddTests: XCTestCase {
    override func tearDown() {
        _ = cedge_qkernel_select("auto")
    }
    func scalar<T>(_ type: ElementType, _ v: T) -> Tensor {
        let t = Tensor(type: type, shape: [])
        t.raw.assumingMemoryBound(to: T.self)[0] = v
        return t
    }

    func node(_ op: String, _ inputs: [String], _ outputs: [String]) -> Node {
        Node(opType: op, domain: "", name: outputs[0] + "_node", inputs: inputs, outputs: outputs, attributes: [:], opsetVersion: 17)
    }

    /// a, b -> Q -> DQ -> Add [-> Relu] [-> Q -> DQ] -> y, scales chosen so sums land on many rounding cases.
    func model(relu: Bool, aShape: [Int] = [2, 3, 4, 5], bShape: [Int], type: ElementType,
               scales: [Float] = [0.013, 0.021, 0.017], requantize: Bool = true) throws -> Model {
        let zero: (Int) -> Tensor = { v in type == .uint8 ? self.scalar(.uint8, UInt8(v + 128)) : self.scalar(.int8, Int8(v)) }
        var inits: [(String, Tensor)] = [
            ("as", Tensor(shape: [], floats: [scales[0]])), ("az", zero(-7)),
            ("bs", Tensor(shape: [], floats: [scales[1]])), ("bz", zero(11)),
            ("ys", Tensor(shape: [], floats: [scales[2]])), ("yz", zero(relu ? -128 : 3)),
        ]
        inits.sort { $0.0 < $1.0 }
        var nodes = [
            node("QuantizeLinear", ["a", "as", "az"], ["aq"]), node("DequantizeLinear", ["aq", "as", "az"], ["ad"]),
            node("QuantizeLinear", ["b", "bs", "bz"], ["bq"]), node("DequantizeLinear", ["bq", "bs", "bz"], ["bd"]),
            node("Add", ["ad", "bd"], ["sum"]),
        ]
        if relu { nodes.append(node("Relu", ["sum"], [requantize ? "r" : "y"])) }
        if requantize {
            nodes.append(node("QuantizeLinear", [relu ? "r" : "sum", "ys", "yz"], ["yq"]))
            nodes.append(node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]))
        } else if !relu {
            nodes[nodes.count - 1] = node("Add", ["ad", "bd"], ["y"])
        }
        func declare(_ name: String, _ shape: [Int]) -> ValueDeclaration {
            ValueDeclaration(name: name, isTensor: true, type: .float32, shape: shape.map { .fixed($0) })
        }
        let graph = Graph(name: "qadd", nodes: nodes, initializers: Dictionary(uniqueKeysWithValues: inits),
                          initializerOrder: inits.map { $0.0 }, inputs: [declare("a", aShape), declare("b", bShape)],
                          outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
                          opsetVersion: 17, irVersion: 8, producer: "test")
        return try Model(bytes: try ONNXGraphWriter.encode(graph))
    }

    func check(relu: Bool, aShape: [Int] = [2, 3, 4, 5], bShape: [Int], type: ElementType,
               scales: [Float] = [0.013, 0.021, 0.017], requantize: Bool = true, line: UInt = #line) throws {
        let m = try model(relu: relu, aShape: aShape, bShape: bShape, type: type, scales: scales, requantize: requantize)
        var rng = KernelRNG(seed: 5)
        // rng.float() is in [-1, 1); a and b span about the whole int8 range of their scales.
        let a = Tensor(shape: aShape, floats: (0..<shapeCount(aShape)).map { _ in 115 * scales[0] * rng.float() })
        let b = Tensor(shape: bShape, floats: (0..<shapeCount(bShape)).map { _ in 95 * scales[1] * rng.float() })
        let unfused = try m.prepare(options: PrepareOptions(fuseQuantized: false))
        XCTAssertTrue(unfused.stepOperators.contains("Add"), line: line)
        let want = try unfused.run([a, b])[0].floats()
        // Every int8 path this CPU runs (the SIMD bodies of the add live with them), against the graph; on 1 and
        // 2 threads (from 8192 elements the add is split in shares, each with its own SIMD steps and tail).
        let paths = ["generic", "avx2", "avx512-vnni", "neon", "neon-dotprod"].filter { (p: String) in cedge_qkernel_select(p) == 0 }
        XCTAssertGreaterThan(paths.count, 1, line: line)
        defer { cedge_set_threads(0) }
        for path in paths {
            XCTAssertEqual(cedge_qkernel_select(path), 0)
            let fused = try m.prepare()
            XCTAssertTrue(fused.stepOperators.contains("QAdd"), "\(fused.stepOperators)", line: line)
            XCTAssertFalse(fused.stepOperators.contains("Add"), line: line)
            for threads: Int32 in [1, 2] {
                cedge_set_threads(threads)
                XCTAssertEqual(try fused.run([a, b])[0].floats(), want, "\(path), \(threads) threads", line: line)
            }
        }
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

    /// Long tensors (full SIMD steps and a tail) whose sums divided by the output scale land on and next to
    /// half-integers, where a reciprocal multiply would round differently from the division the definition asks
    /// for, and a rounding other than half to even too.
    func testRequantizationRoundsAsTheDivision() throws {
        let shape = [2, 3, 40, 41]
        for type in [ElementType.int8, .uint8] {
            try check(relu: false, aShape: shape, bShape: shape, type: type, scales: [0.05, 0.15, 0.1])
            try check(relu: true, aShape: shape, bShape: shape, type: type, scales: [0.3, 0.7, 0.2])
            try check(relu: false, aShape: shape, bShape: shape, type: type, scales: [0.013, 0.021, 0.017])
        }
    }

    /// The last block's add, which no QuantizeLinear follows, fuses with its float output.
    func testFloatSumFusesWithoutRequantization() throws {
        try check(relu: true, bShape: [2, 3, 4, 5], type: .int8, requantize: false)
        try check(relu: false, bShape: [2, 3, 4, 5], type: .uint8, requantize: false)
        try check(relu: true, aShape: [2, 3, 40, 41], bShape: [1, 3, 1, 1], type: .uint8, requantize: false)
    }
}
