// The cloud's patch tooling: export (fp32/fp16), read back, diff two models, write a patched model.
@testable import CloudTrainer
import EdgeRuntime
import Foundation
import XCTest

final class PatchExporterTests: XCTestCase {
    let hash = SHA256.digest(Array("exporter test model".utf8))

    func export(_ parameters: [(name: String, dims: [Int], values: [Float])], precision: PatchPrecision = .fp32) throws -> Cema_ParameterPatch {
        try PatchExporter.makePatch(modelSHA256: hash, baseVersion: 2, newVersion: 3, parameters: parameters,
                                    precision: precision, createdUnixMs: 99)
    }

    func expectExportError(_ expected: PatchExportError, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssertEqual($0 as? PatchExportError, expected, line: line) }
    }

    func testFP32RoundTripsExactly() throws {
        let values: [Float] = [1, -0.1, 3.4e38, 1e-40]
        let bytes = try PatchExporter.serialize(try export([(name: "bn.weight", dims: [4], values: values)]))
        let read = try PatchReader.read(bytes: bytes)
        XCTAssertEqual([UInt8](read.modelSha256), hash)
        XCTAssertEqual(read.baseVersion, 2)
        XCTAssertEqual(read.newVersion, 3)
        XCTAssertEqual(read.createdUnixMs, 99)
        XCTAssertEqual(read.params.map(\.name), ["bn.weight"])
        XCTAssertEqual(read.params[0].dims, [4])
        XCTAssertEqual(read.params[0].values.count, 16)
        XCTAssertEqual(try PatchReader.floats(of: read.params[0]), values)
    }

    func testFP16RoundsToNearestAndHalvesTheValues() throws {
        let values: [Float] = [0.1, 1.0 / 3.0, -2.5, 65504, 1e-8]
        let message = try export([(name: "bn.bias", dims: [], values: values)], precision: .fp16)
        XCTAssertEqual(message.params[0].kind, .fp16)
        XCTAssertEqual(message.params[0].values.count, 10)
        // Reference: binary16 nearest values, computed by hand (0.1 -> 0x2E66, 1/3 -> 0x3555, 1e-8 underflows to 0).
        XCTAssertEqual(try PatchReader.floats(of: message.params[0]),
                       [0.0999755859375, 0.333251953125, -2.5, 65504, 0])
    }

    func testExportRefusesWhatTheEdgeWouldRefuseOrMisread() {
        expectExportError(.notRepresentableInFP16(name: "bn.weight", index: 1, value: 70000)) {
            _ = try self.export([(name: "bn.weight", dims: [], values: [1, 70000])], precision: .fp16)
        }
        expectExportError(.nonFiniteValue(name: "bn.weight", index: 0)) {
            _ = try self.export([(name: "bn.weight", dims: [], values: [.nan])])
        }
        expectExportError(.nonFiniteValue(name: "bn.weight", index: 2)) {
            _ = try self.export([(name: "bn.weight", dims: [], values: [1, 2, -.infinity])], precision: .fp16)
        }
        expectExportError(.duplicateParameter(name: "a")) {
            _ = try self.export([(name: "a", dims: [], values: [1]), (name: "a", dims: [], values: [2])])
        }
        expectExportError(.emptyName(index: 0)) { _ = try self.export([(name: "", dims: [], values: [1])]) }
        expectExportError(.dimsDoNotMatchValues(name: "a", dims: [3], count: 2)) {
            _ = try self.export([(name: "a", dims: [3], values: [1, 2])])
        }
        expectExportError(.invalidModelHash(byteCount: 31)) {
            _ = try PatchExporter.makePatch(modelSHA256: Array(self.hash.dropLast()), baseVersion: 0, newVersion: 1,
                                            values: ["a": [1]], precision: .fp32, createdUnixMs: 0)
        }
    }

    func testDictionaryFormIsInNameOrder() throws {
        let m = try PatchExporter.makePatch(modelSHA256: hash, baseVersion: 0, newVersion: 1,
                                            values: ["z.bias": [1], "a.weight": [2], "m.running_var": [3]],
                                            precision: .fp32, createdUnixMs: 0)
        XCTAssertEqual(m.params.map(\.name), ["a.weight", "m.running_var", "z.bias"])
    }

    // The proto puts the signature last, so the signed bytes (signature empty) are a prefix of the patch.
    func testSignedBytesArePrefixOfSignedPatch() throws {
        var m = try export([(name: "bn.weight", dims: [2], values: [1, 2])])
        let unsigned = try PatchExporter.serialize(m)
        m.signature = Data(repeating: 0xab, count: 64)
        let signed = try PatchExporter.serialize(m)
        XCTAssertEqual(Array(signed.prefix(unsigned.count)), unsigned)
        XCTAssertEqual(Array(signed.dropFirst(unsigned.count)), [0x7a, 64] + [UInt8](repeating: 0xab, count: 64))
    }

    func testReaderRefusesNonPatches() throws {
        XCTAssertThrowsError(try PatchReader.read(bytes: [])) { XCTAssertEqual($0 as? PatchReadError, .notAPatch(reason: "the file is empty")) }
        XCTAssertThrowsError(try PatchReader.read(bytes: try readFile(Self.bnModelPath))) {
            guard case .notAPatch? = $0 as? PatchReadError else { return XCTFail("\($0)") }
        }
    }

    func testSummaryForInspect() throws {
        let bytes = try PatchExporter.serialize(try export([(name: "bn.weight", dims: [3], values: [0.5, -4, 2]),
                                                             (name: "bn.bias", dims: [], values: [7])], precision: .fp16))
        let s = try PatchReader.summary(bytes: bytes)
        XCTAssertEqual(s.modelSHA256Hex, SHA256.hex(hash))
        XCTAssertEqual(s.totalBytes, bytes.count)
        XCTAssertEqual(s.tensors, [
            PatchTensorSummary(name: "bn.weight", kind: "fp16", dims: [3], count: 3, min: -4, max: 2, valueBytes: 6),
            PatchTensorSummary(name: "bn.bias", kind: "fp16", dims: [], count: 1, min: 7, max: 7, valueBytes: 2),
        ])
    }

    // --- diff, apply, write ------------------------------------------------------------------------------
    // test_BatchNorm2d_eval: one BatchNormalization whose scale/bias/mean/var are initializers "1".."4".
    static let bnCase = "/usr/share/libonnx-testdata/data/pytorch-converted/test_BatchNorm2d_eval"
    static let bnModelPath = bnCase + "/model.onnx"

    func testDiffApplyWriteRoundTrip() throws {
        let base = try readFile(Self.bnModelPath)
        let newScale: [Float] = [1.5, -0.25, 2]
        let newVariance: [Float] = [0.5, 1, 4]
        let newBytes = try PatchedModelWriter.replacing([(name: "1", values: newScale), (name: "4", values: newVariance)], in: base)
        let baseModel = try Model(bytes: base)
        let newModel = try Model(bytes: newBytes)
        XCTAssertEqual(newModel.graph.initializers["1"]!.floats(), newScale)
        XCTAssertEqual(newModel.graph.initializers["2"]!.floats(), baseModel.graph.initializers["2"]!.floats())

        let changed = try PatchDiff.changedParameters(base: baseModel.graph, new: newModel.graph)
        XCTAssertEqual(changed.map(\.name), ["1", "4"])
        XCTAssertEqual(changed[1].values, newVariance)
        XCTAssertEqual(changed[1].dims, [3])

        let bytes = try PatchExporter.serialize(try PatchExporter.makePatch(
            modelSHA256: SHA256.digest(base), baseVersion: 0, newVersion: 1, parameters: changed,
            precision: .fp32, createdUnixMs: 1))
        try baseModel.apply(try PatchDecoder.decode(bytes: bytes))
        let written = try PatchedModelWriter.write(baseModel, names: ["1", "4"], original: base)
        // Re-encoding the same values gives the same file, and it loads and runs like the new model.
        XCTAssertEqual(written, newBytes)
        let shape = [2, 3, 6, 6]
        let x = Tensor(shape: shape, floats: (0..<216).map { Float($0 % 17) * 0.1 - 0.8 })
        let a = try Model(bytes: written).prepare(inputShapes: [baseModel.graph.inputs[0].name: shape]).run([x])[0].floats()
        let b = try newModel.prepare(inputShapes: [newModel.graph.inputs[0].name: shape]).run([x])[0].floats()
        XCTAssertEqual(a, b)
    }

    // Rewriting keeps the model what it was: rewriting with the current values changes no value or node.
    func testWriterKeepsEverythingElse() throws {
        let base = try readFile(Self.bnModelPath)
        let model = try Model(bytes: base)
        let rewritten = try Model(bytes: try PatchedModelWriter.write(model, names: ["1", "2", "3", "4"], original: base))
        XCTAssertEqual(rewritten.graph.nodes.map(\.opType), model.graph.nodes.map(\.opType))
        XCTAssertEqual(rewritten.graph.opsetVersion, model.graph.opsetVersion)
        XCTAssertEqual(rewritten.graph.producer, model.graph.producer)
        for name in model.graph.initializerOrder {
            XCTAssertEqual(rewritten.graph.initializers[name]!.floats(), model.graph.initializers[name]!.floats())
            XCTAssertEqual(rewritten.graph.initializers[name]!.shape, model.graph.initializers[name]!.shape)
        }
    }

    func testWriterErrors() throws {
        let base = try readFile(Self.bnModelPath)
        XCTAssertThrowsError(try PatchedModelWriter.replacing([(name: "nope", values: [1, 2, 3])], in: base)) {
            XCTAssertEqual($0 as? PatchedModelWriteError, .unknownInitializer(name: "nope"))
        }
        XCTAssertThrowsError(try PatchedModelWriter.replacing([(name: "1", values: [1, 2, 3]), (name: "2", values: [1, 2])], in: base)) {
            XCTAssertEqual($0 as? PatchedModelWriteError, .countMismatch(name: "2"))
        }
        XCTAssertThrowsError(try PatchedModelWriter.replacing([(name: "1", values: [1, 2, 3])], in: Array("not a model".utf8))) {
            XCTAssertEqual($0 as? PatchedModelWriteError, .notONNX)
        }
    }

    func testDiffRefusesDifferentGraphsAndWeightChanges() throws {
        let bn2d = try Model(path: Self.bnModelPath).graph
        let bn3d = try Model(path: "/usr/share/libonnx-testdata/data/pytorch-converted/test_BatchNorm3d_eval/model.onnx").graph
        XCTAssertThrowsError(try PatchDiff.changedParameters(base: bn2d, new: bn3d)) {
            guard case .graphsDiffer? = $0 as? PatchDiffError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PatchDiff.changedParameters(base: bn2d, new: bn2d)) {
            XCTAssertEqual($0 as? PatchDiffError, .noParameterDiffers)
        }
        // A convolution weight that differs cannot travel in a patch.
        let convPath = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx"
        let conv = try readFile(convPath)
        let convGraph = try Model(bytes: conv).graph
        let weight = convGraph.initializerOrder[0]
        var changed = convGraph.initializers[weight]!.floats()
        changed[0] += 1
        let convNew = try Model(bytes: try PatchedModelWriter.replacing([(name: weight, values: changed)], in: conv)).graph
        XCTAssertThrowsError(try PatchDiff.changedParameters(base: convGraph, new: convNew)) {
            XCTAssertEqual($0 as? PatchDiffError, .weightDiffers(name: weight))
        }
    }
}
