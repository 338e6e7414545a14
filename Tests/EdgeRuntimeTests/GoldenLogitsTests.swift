// The shipped models, run by this runtime, against logits PyTorch computed for the same weights and images
// (models/make_golden.py writes them; see models/golden/README.md).
import EdgeRuntime
import Foundation
import XCTest

final class GoldenLogitsTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func floats(_ relative: String) throws -> [Float] {
        let url = Self.repository.appendingPathComponent(relative)
        let data = try Data(contentsOf: url)
        XCTAssertEqual(data.count % 4, 0, "\(relative) is not a float32 file")
        return data.withUnsafeBytes { raw in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let input = try floats("models/golden/\(name)_batch_input.f32")
        let expected = try floats("models/golden/\(name)_batch_logits.f32")
        let batch = 16
        XCTAssertEqual(input.count, batch * 28 * 28, file: file, line: line)
        XCTAssertEqual(expected.count, batch * 10, file: file, line: line)
        let model = try Model(path: Self.repository.appendingPathComponent("models/\(name).onnx").path)
        let session = try model.prepare(batch: batch)
        let logits = try session.run([Tensor(shape: [batch, 1, 28, 28], floats: input)])[0].floats()
        XCTAssertEqual(logits.count, expected.count, file: file, line: line)
        var worst: Float = 0
        for (a, b) in zip(logits, expected) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): max |runtime - PyTorch| over the batch's logits", file: file, line: line)
        // The same check at another batch size and thread count: the plan and the kernels' blocking change.
        RuntimeThreads.set(1)
        defer { RuntimeThreads.set(0) }
        let single = try model.prepare(batch: 1)
        for i in [0, 7, 15] {
            let row = try single.run([Tensor(shape: [1, 1, 28, 28], floats: Array(input[(i * 784)..<((i + 1) * 784)]))])[0].floats()
            for c in 0..<10 { XCTAssertEqual(row[c], expected[i * 10 + c], accuracy: 1e-4, "\(name) image \(i) class \(c)", file: file, line: line) }
        }
    }

    func testEdgeModelMatchesPyTorch() throws { try check("edge") }
    func testFoundationModelMatchesPyTorch() throws { try check("foundation") }
}
