// Bad models and bad inputs end in the right typed error, never a crash.
import XCTest
@testable import EdgeRuntime

final class ModelLoaderTests: XCTestCase {
    let reluModel = buildModel(nodes: [TestNode(op: "Relu", name: "act", inputs: ["x"], outputs: ["y"])],
                               inputs: [TestValue(name: "x", dims: [-1, 4])], outputs: [TestValue(name: "y", dims: [-1, 4])])

    func expectError(_ bytes: [UInt8], shapes: [String: [Int]] = [:], _ check: (ModelLoadError) -> Bool,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let model = try Model(bytes: bytes)
            _ = try model.prepare(inputShapes: shapes)
            XCTFail("expected an error", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
        }
    }

    func testHandBuiltModelRuns() throws {
        let session = try Model(bytes: reluModel).prepare(inputShapes: ["x": [2, 4]])
        let out = try session.run([Tensor(shape: [2, 4], floats: [-1, 2, -3, 4, 0, -0.5, 6, -7])])
        XCTAssertEqual(out[0].floats(), [0, 2, 0, 4, 0, 0, 6, 0])
    }

    func testEmptyAndTruncatedBytes() throws {
        expectError([]) { if case .notONNX = $0 { return true }; return false }
        // Cutting a real model mid-message leaves a length prefix pointing past the end.
        let path = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx"
        let bytes = try readFile(path)
        for cut in [bytes.count / 2, bytes.count - 3, 7] {
            expectError(Array(bytes[..<cut])) { if case .notONNX = $0 { return true }; return false }
        }
    }

    func testNonONNXBytes() {
        expectError(Array("this is a text file, not a model\n".utf8)) { if case .notONNX = $0 { return true }; return false }
        expectError([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]) { if case .notONNX = $0 { return true }; return false }
    }

    func testUnsupportedOpset() {
        let bytes = buildModel(opset: 99, nodes: [TestNode(op: "Relu", name: "act", inputs: ["x"], outputs: ["y"])],
                               inputs: [TestValue(name: "x", dims: [4])], outputs: [TestValue(name: "y", dims: [4])])
        expectError(bytes) { $0 == .unsupportedOpset(domain: "", version: 99) }
    }

    func testUnsupportedOperatorNamesOpAndNode() {
        let bytes = buildModel(nodes: [TestNode(op: "FancyWarp", name: "warp_3", inputs: ["x"], outputs: ["y"])],
                               inputs: [TestValue(name: "x", dims: [4])], outputs: [TestValue(name: "y", dims: [4])])
        expectError(bytes) { error in
            guard case .unsupportedOperator(let op, let node, _) = error else { return false }
            return op == "FancyWarp" && node == "warp_3" && error.description.contains("FancyWarp") && error.description.contains("warp_3")
        }
    }

    func testMissingInitializer() {
        let bytes = buildModel(nodes: [TestNode(op: "Conv", name: "conv1", inputs: ["x", "W"], outputs: ["y"])],
                               inputs: [TestValue(name: "x", dims: [1, 1, 4, 4])], outputs: [TestValue(name: "y", dims: [])])
        expectError(bytes) { $0 == .missingInput(name: "W", node: "conv1") }
    }

    func testExternalDataIsRefused() {
        let bytes = buildModel(nodes: [TestNode(op: "Add", name: "add", inputs: ["x", "b"], outputs: ["y"])],
                               initializers: [TestTensor(name: "b", dims: [4], floats: [], external: true)],
                               inputs: [TestValue(name: "x", dims: [4])], outputs: [TestValue(name: "y", dims: [4])])
        expectError(bytes) { $0 == .externalData(tensor: "b") }
    }

    func testInitializerWithWrongByteCount() {
        let bytes = buildModel(nodes: [TestNode(op: "Add", name: "add", inputs: ["x", "b"], outputs: ["y"])],
                               initializers: [TestTensor(name: "b", dims: [4], floats: [1, 2, 3])],
                               inputs: [TestValue(name: "x", dims: [4])], outputs: [TestValue(name: "y", dims: [4])])
        expectError(bytes) { if case .invalidTensor(let t, _) = $0 { return t == "b" }; return false }
    }

    func testInputShapeMismatch() throws {
        let bytes = buildModel(nodes: [TestNode(op: "Relu", name: "act", inputs: ["x"], outputs: ["y"])],
                               inputs: [TestValue(name: "x", dims: [1, 3])], outputs: [TestValue(name: "y", dims: [1, 3])])
        expectError(bytes, shapes: ["x": [1, 4]]) { if case .inputShapeMismatch(let name, _, _) = $0 { return name == "x" }; return false }
        expectError(bytes, shapes: ["x": [1, 3, 1]]) { if case .inputShapeMismatch = $0 { return true }; return false }
        expectError(bytes, shapes: ["nope": [1, 3]]) { $0 == .unknownInput(name: "nope") }
        // At run time, a tensor of another shape than the prepared one is refused too.
        let session = try Model(bytes: reluModel).prepare(inputShapes: ["x": [2, 4]])
        XCTAssertThrowsError(try session.run([Tensor(shape: [3, 4], floats: [Float](repeating: 0, count: 12))]))
    }

    func testSymbolicInputNeedsAShape() {
        expectError(reluModel) { if case .inputShapeMismatch = $0 { return true }; return false }
    }

    func testShapeErrorsAreReported() {
        let bytes = buildModel(nodes: [TestNode(op: "Add", name: "add", inputs: ["x", "b"], outputs: ["y"])],
                               initializers: [TestTensor(name: "b", dims: [3], floats: [1, 2, 3])],
                               inputs: [TestValue(name: "x", dims: [4])], outputs: [TestValue(name: "y", dims: [4])])
        expectError(bytes) { if case .shapeError(let node, _) = $0 { return node == "add" }; return false }
    }

    func testArenaIsReusedAlongAChain() throws {
        var nodes: [TestNode] = []
        for i in 0..<10 { nodes.append(TestNode(op: "Relu", name: "r\(i)", inputs: [i == 0 ? "x" : "v\(i)"], outputs: [i == 9 ? "y" : "v\(i + 1)"])) }
        let bytes = buildModel(nodes: nodes, inputs: [TestValue(name: "x", dims: [1000])], outputs: [TestValue(name: "y", dims: [1000])])
        let session = try Model(bytes: bytes).prepare()
        // Input and output stay live; the eight intermediates need at most two more slots.
        XCTAssertLessThanOrEqual(session.arenaBytes, 4 * 4032)
        let out = try session.run([Tensor(shape: [1000], floats: (0..<1000).map { Float($0 % 7) - 3 })])
        XCTAssertEqual(out[0].floats(), (0..<1000).map { max(Float($0 % 7) - 3, 0) })
    }
}
