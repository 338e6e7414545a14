// Parameter patches on the edge: every bad patch is refused with its typed error and leaves each
// initializer byte as it was; a good one changes outputs exactly as editing the initializers would.
import XCTest
@testable import EdgeRuntime

/// Encodes a ParameterPatch by field number (cema.proto), independently of both generated codecs.
func encodeForTest(_ patch: ParameterPatch, kindOverride: Int? = nil) -> [UInt8] {
    var w = ProtoWriter()
    w.bytes(1, patch.modelSHA256)
    if patch.baseVersion != 0 { w.key(2, 0); w.varint(patch.baseVersion) }
    if patch.newVersion != 0 { w.key(3, 0); w.varint(patch.newVersion) }
    for p in patch.parameters {
        w.message(4) { t in
            t.string(1, p.name)
            t.int(2, kindOverride ?? (p.kind == .fp32 ? 1 : 2))
            if !p.dims.isEmpty {
                var packed = ProtoWriter()
                for d in p.dims { packed.varint(UInt64(d)) }
                t.bytes(3, packed.bytes)
            }
            var raw: [UInt8] = []
            for v in p.values {
                if p.kind == .fp32 {
                    withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 }
                } else {
                    withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { raw += $0 }
                }
            }
            t.bytes(4, raw)
        }
    }
    if patch.createdUnixMs != 0 { w.key(5, 0); w.varint(patch.createdUnixMs) }
    if !patch.signature.isEmpty { w.bytes(15, patch.signature) }
    return w.bytes
}

final class PatchTests: XCTestCase {
    // x [1,1,4,4] -> Conv(W [2,1,3,3], B) -> BatchNormalization(scale, bias, mean, var) -> Flatten
    // -> Gemm(W2 [8,3], B2) -> y [1,3]
    static let original: [String: [Float]] = [
        "W": (0..<18).map { Float($0 % 5) * 0.25 - 0.5 }, "B": [0.1, -0.2],
        "scale": [1.0, 0.5], "bias": [0.0, 0.25], "mean": [0.1, -0.1], "var": [1.0, 2.0],
        "W2": (0..<24).map { Float($0 % 7) * 0.125 - 0.375 }, "B2": [0.5, 0, -0.5],
    ]
    static let shapes: [String: [Int]] = [
        "W": [2, 1, 3, 3], "B": [2], "scale": [2], "bias": [2], "mean": [2], "var": [2], "W2": [8, 3], "B2": [3],
    ]

    static func modelBytes(_ values: [String: [Float]] = original) -> [UInt8] {
        let order = ["W", "B", "scale", "bias", "mean", "var", "W2", "B2"]
        return buildModel(
            nodes: [
                TestNode(op: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"]),
                TestNode(op: "BatchNormalization", name: "bn", inputs: ["c", "scale", "bias", "mean", "var"], outputs: ["n"]),
                TestNode(op: "Flatten", name: "flat", inputs: ["n"], outputs: ["f"]),
                TestNode(op: "Gemm", name: "fc", inputs: ["f", "W2", "B2"], outputs: ["y"]),
            ],
            initializers: order.map { TestTensor(name: $0, dims: shapes[$0]!, floats: values[$0]!) },
            inputs: [TestValue(name: "x", dims: [1, 1, 4, 4])], outputs: [TestValue(name: "y", dims: [1, 3])])
    }

    let bytes = PatchTests.modelBytes()
    var hash: [UInt8] { SHA256.digest(bytes) }
    let input = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) * 0.3 - 2 })

    func patch(_ parameters: [PatchParameter], base: UInt64 = 0, new: UInt64 = 1) -> ParameterPatch {
        ParameterPatch(modelSHA256: hash, baseVersion: base, newVersion: new, parameters: parameters)
    }

    func snapshot(_ model: Model) -> [String: [UInt8]] {
        model.graph.initializers.mapValues { t in Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)) }
    }

    /// Applies `p` (or decodes `encoded` first), expects `expected`, and checks nothing in the model changed.
    func expectRefused(_ p: ParameterPatch? = nil, encoded: [UInt8]? = nil, _ expected: PatchError,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try Model(bytes: bytes)
        let session = try model.prepare(inputShapes: ["x": [1, 1, 4, 4]])
        let outputsBefore = try session.run([input])[0].floats()
        let before = snapshot(model)
        do throws(PatchError) {
            let decoded: ParameterPatch
            if let p { decoded = p } else { decoded = try PatchDecoder.decode(bytes: encoded!) }
            try model.apply(decoded)
            XCTFail("expected \(expected), the patch was applied", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
        XCTAssertEqual(snapshot(model), before, "an initializer changed", file: file, line: line)
        XCTAssertEqual(model.version, 0, file: file, line: line)
        XCTAssertEqual(try session.run([input])[0].floats(), outputsBefore, file: file, line: line)
    }

    let goodScale = PatchParameter(name: "scale", values: [2, -1])

    // --- identity and versions ---------------------------------------------------------------------------

    func testWrongModelHash() throws {
        var p = patch([goodScale])
        p.modelSHA256 = SHA256.digest(Array("another model".utf8))
        try expectRefused(p, .modelMismatch(expected: SHA256.hex(hash), got: SHA256.hex(p.modelSHA256)))
    }

    func testWrongBaseVersion() throws {
        try expectRefused(patch([goodScale], base: 1, new: 2), .baseVersionMismatch(expected: 0, got: 1))
    }

    func testModelBuiltFromAGraphAcceptsNoPatch() throws {
        let model = Model(graph: try ModelLoader.load(bytes: bytes))
        XCTAssertThrowsError(try model.apply(patch([goodScale]))) { error in
            XCTAssertEqual(error as? PatchError, .modelMismatch(expected: "", got: SHA256.hex(hash)))
        }
    }

    // --- names ---------------------------------------------------------------------------------------------
    // Each bad parameter comes after a valid one, so a half-applied patch would show in the snapshot.

    func testUnknownName() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "bn.gamma", values: [1, 1])]),
                          .unknownParameter(name: "bn.gamma"))
    }

    func testConvolutionWeightAndBiasAreRefused() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "W", values: [Float](repeating: 0, count: 18))]),
                          .notANormalizationParameter(name: "W"))
        try expectRefused(patch([goodScale, PatchParameter(name: "B", values: [0, 0])]),
                          .notANormalizationParameter(name: "B"))
    }

    func testGemmWeightIsRefused() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "W2", values: [Float](repeating: 1, count: 24))]),
                          .notANormalizationParameter(name: "W2"))
    }

    func testDuplicateName() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "bias", values: [1, 1]), PatchParameter(name: "scale", values: [3, 3])]),
                          .duplicateParameter(name: "scale"))
    }

    // A normalization parameter that something else also reads is a weight too.
    func testParameterSharedWithAnotherNodeIsRefused() throws {
        let shared = buildModel(
            nodes: [
                TestNode(op: "BatchNormalization", name: "bn", inputs: ["x", "s", "b", "m", "v"], outputs: ["n"]),
                TestNode(op: "Mul", name: "mul", inputs: ["n", "s"], outputs: ["y"]),
            ],
            initializers: ["s", "b", "m", "v"].map { TestTensor(name: $0, dims: [2], floats: [1, 1]) },
            inputs: [TestValue(name: "x", dims: [1, 2, 2, 2])], outputs: [TestValue(name: "y", dims: [1, 2, 2, 2])])
        let model = try Model(bytes: shared)
        let before = snapshot(model)
        let p = ParameterPatch(modelSHA256: SHA256.digest(shared), baseVersion: 0, newVersion: 1,
                               parameters: [PatchParameter(name: "b", values: [2, 2]), PatchParameter(name: "s", values: [2, 2])])
        XCTAssertThrowsError(try model.apply(p)) { XCTAssertEqual($0 as? PatchError, .notANormalizationParameter(name: "s")) }
        XCTAssertEqual(snapshot(model), before)
        // The unshared ones are patchable.
        try model.apply(ParameterPatch(modelSHA256: SHA256.digest(shared), baseVersion: 0, newVersion: 1,
                                       parameters: [PatchParameter(name: "b", values: [2, 2])]))
        XCTAssertEqual(model.graph.initializers["b"]!.floats(), [2, 2])
    }

    // --- values --------------------------------------------------------------------------------------------

    func testWrongElementCount() throws {
        try expectRefused(patch([PatchParameter(name: "bias", values: [1, 1]), PatchParameter(name: "scale", values: [1, 2, 3])]),
                          .elementCountMismatch(name: "scale", expected: 2, got: 3))
        try expectRefused(patch([goodScale, PatchParameter(name: "mean", values: [])]),
                          .elementCountMismatch(name: "mean", expected: 2, got: 0))
    }

    func testNaN() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "bias", values: [0, .nan])]), .nonFiniteValue(name: "bias", index: 1))
    }

    func testInfinities() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "mean", values: [.infinity, 0])]), .nonFiniteValue(name: "mean", index: 0))
        try expectRefused(patch([goodScale, PatchParameter(name: "bias", values: [1, -.infinity])]),
                          .nonFiniteValue(name: "bias", index: 1))
    }

    func testZeroAndNegativeVariance() throws {
        try expectRefused(patch([goodScale, PatchParameter(name: "var", values: [1, 0])]), .nonPositiveVariance(name: "var", index: 1))
        try expectRefused(patch([goodScale, PatchParameter(name: "var", values: [-0.5, 1])]), .nonPositiveVariance(name: "var", index: 0))
        try expectRefused(patch([goodScale, PatchParameter(name: "var", values: [1, -0.0])]), .nonPositiveVariance(name: "var", index: 1))
        // Zero and negative affine values are legitimate (a channel switched off or inverted).
        let model = try Model(bytes: bytes)
        try model.apply(patch([PatchParameter(name: "scale", values: [0, -2]), PatchParameter(name: "mean", values: [-3, 0])]))
        XCTAssertEqual(model.graph.initializers["scale"]!.floats(), [0, -2])
    }

    func testEmptyPatch() throws {
        try expectRefused(patch([]), .malformed(reason: "the patch carries no parameters"))
    }

    // --- bytes ---------------------------------------------------------------------------------------------

    func testTruncatedBytes() throws {
        var p = patch([goodScale, PatchParameter(name: "bias", dims: [2], values: [0.5, 0.75])])
        p.createdUnixMs = 1_764_614_400_000
        let good = encodeForTest(p)
        XCTAssertEqual(try PatchDecoder.decode(bytes: good), p)
        // Cuts inside the hash, inside a tensor's values, and inside the final multi-byte varint.
        for cut in [5, good.count / 2, good.count - 1] {
            try expectRefused(encoded: Array(good[..<cut]),
                              .malformed(reason: "the bytes are not a well-formed protobuf message (truncated or another format)"))
        }
    }

    func testGarbageBytes() throws {
        try expectRefused(encoded: [], .malformed(reason: "the patch is empty"))
        try expectRefused(encoded: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                          .malformed(reason: "the bytes are not a well-formed protobuf message (truncated or another format)"))
        // An ONNX model is a protobuf message too, of another shape: field 1 is a varint there.
        try expectRefused(encoded: bytes,
                          .malformed(reason: "the bytes are not a well-formed protobuf message (truncated or another format)"))
        // Text that happens to parse (field 13 and so on) still names no model.
        let text = Array("hi".utf8)
        try expectRefused(encoded: text, .malformed(reason: "model_sha256 holds 0 bytes, a SHA-256 digest has 32"))
    }

    func testFormatRulesAreChecked() throws {
        var shortHash = patch([goodScale])
        shortHash.modelSHA256.removeLast()
        try expectRefused(encoded: encodeForTest(shortHash), .malformed(reason: "model_sha256 holds 31 bytes, a SHA-256 digest has 32"))
        try expectRefused(encoded: encodeForTest(patch([goodScale]), kindOverride: 0),
                          .malformed(reason: "parameter 'scale' has element kind 0, expected FP32 (1) or FP16 (2)"))
        try expectRefused(encoded: encodeForTest(patch([goodScale]), kindOverride: 7),
                          .malformed(reason: "parameter 'scale' has element kind 7, expected FP32 (1) or FP16 (2)"))
        // fp16 bytes (4) labelled fp32 (4 bytes = 1 value) is a count problem; 6 bytes are not whole fp32 values.
        let threeHalves = patch([PatchParameter(name: "scale", kind: .fp16, values: [1, 2, 3])])
        try expectRefused(encoded: encodeForTest(threeHalves, kindOverride: 1),
                          .malformed(reason: "parameter 'scale' holds 6 bytes, not a whole number of fp32 values"))
        try expectRefused(encoded: encodeForTest(patch([PatchParameter(name: "scale", dims: [3], values: [1, 2])])),
                          .malformed(reason: "parameter 'scale' has dims [3] but 2 values"))
        try expectRefused(encoded: encodeForTest(patch([PatchParameter(name: "", values: [1, 2])])),
                          .malformed(reason: "parameter #0 has no name"))
    }

    // --- a good patch ----------------------------------------------------------------------------------------

    static let edited: [String: [Float]] = ["scale": [1.5, -0.75], "bias": [0.2, -0.3], "mean": [0.05, 0.4], "var": [0.5, 3.0]]

    func testGoodPatchMatchesEditedInitializersAndRollsBack() throws {
        let model = try Model(bytes: bytes)
        let session = try model.prepare(inputShapes: ["x": [1, 1, 4, 4]])  // prepared before the patch
        let originalOutputs = try session.run([input])[0].floats()
        let before = snapshot(model)

        var reference = Self.original
        for (k, v) in Self.edited { reference[k] = v }
        let expected = try Model(bytes: Self.modelBytes(reference)).prepare(inputShapes: ["x": [1, 1, 4, 4]]).run([input])[0].floats()
        XCTAssertNotEqual(expected, originalOutputs)

        let p = patch(["scale", "bias", "mean", "var"].map { PatchParameter(name: $0, dims: [2], values: Self.edited[$0]!) })
        let undo = try model.apply(try PatchDecoder.decode(bytes: encodeForTest(p)))
        XCTAssertEqual(model.version, 1)
        XCTAssertEqual(try session.run([input])[0].floats(), expected)
        XCTAssertEqual(model.graph.initializers["var"]!.floats(), [0.5, 3.0])
        XCTAssertEqual(model.graph.initializers["W"]!.floats(), Self.original["W"]!)

        // The undo patch takes the model back from version 1 to 0, byte for byte.
        XCTAssertEqual(undo.baseVersion, 1)
        XCTAssertEqual(undo.newVersion, 0)
        XCTAssertEqual(undo.modelSHA256, hash)
        try model.apply(undo)
        XCTAssertEqual(model.version, 0)
        XCTAssertEqual(snapshot(model), before)
        XCTAssertEqual(try session.run([input])[0].floats(), originalOutputs)
    }

    func testFP16PatchIsWidenedExactly() throws {
        let model = try Model(bytes: bytes)
        let session = try model.prepare(inputShapes: ["x": [1, 1, 4, 4]])
        // Values binary16 holds exactly, plus one it must round (0.1 -> 0.0999755859375).
        let values: [Float] = [0.5, 0.1]
        let p = patch([PatchParameter(name: "bias", kind: .fp16, values: values)])
        let decoded = try PatchDecoder.decode(bytes: encodeForTest(p))
        XCTAssertEqual(decoded.parameters[0].kind, .fp16)
        XCTAssertEqual(decoded.parameters[0].values, [0.5, 0.0999755859375])
        try model.apply(decoded)
        XCTAssertEqual(model.graph.initializers["bias"]!.floats(), [0.5, 0.0999755859375])
        var reference = Self.original
        reference["bias"] = [0.5, 0.0999755859375]
        let expected = try Model(bytes: Self.modelBytes(reference)).prepare(inputShapes: ["x": [1, 1, 4, 4]]).run([input])[0].floats()
        XCTAssertEqual(try session.run([input])[0].floats(), expected)
    }

    func testPatchesChainByVersion() throws {
        let model = try Model(bytes: bytes)
        try model.apply(patch([PatchParameter(name: "bias", values: [1, 1])], base: 0, new: 1))
        try model.apply(patch([PatchParameter(name: "bias", values: [2, 2])], base: 1, new: 5))
        XCTAssertEqual(model.version, 5)
        XCTAssertEqual(model.graph.initializers["bias"]!.floats(), [2, 2])
        XCTAssertThrowsError(try model.apply(patch([PatchParameter(name: "bias", values: [3, 3])], base: 1, new: 2))) {
            XCTAssertEqual($0 as? PatchError, .baseVersionMismatch(expected: 5, got: 1))
        }
        XCTAssertEqual(model.graph.initializers["bias"]!.floats(), [2, 2])
    }

    func testCheckDoesNotWrite() throws {
        let model = try Model(bytes: bytes)
        let before = snapshot(model)
        try model.check(patch([goodScale]))
        XCTAssertEqual(snapshot(model), before)
        XCTAssertEqual(model.version, 0)
    }

    func testErrorsReadAsOneLine() {
        let e = PatchError.elementCountMismatch(name: "bn.weight", expected: 16, got: 15)
        XCTAssertEqual(e.description, "the patch gives 15 values for 'bn.weight', which holds 16")
        XCTAssertFalse(PatchError.nonPositiveVariance(name: "v", index: 3).description.contains("\n"))
    }
}
