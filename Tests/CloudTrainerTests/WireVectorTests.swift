// Shared wire vectors: bytes made by the cloud's Swift code decode identically in the board's C code, and
// bytes made by protobuf-c decode identically in swift-protobuf. CEMA_WRITE_VECTORS=1 rewrites the files.
import CEdgeShim
import CloudTrainer
import EdgeRuntime
import Foundation
import XCTest

// --- what each vector holds, written once for both encoders ------------------------------------------

struct PatchVectorParameter {
    var name: String
    var kind: PatchPrecision
    var dims: [Int]
    var values: [Float]

    /// What a decoder must deliver: fp16 values are the nearest binary16 values, widened.
    var decodedValues: [Float] { kind == .fp32 ? values : values.map { Float(Float16($0)) } }

    /// Little-endian raw elements, built here independently of PatchExporter.
    var rawBytes: [UInt8] {
        var out: [UInt8] = []
        for v in values {
            if kind == .fp32 {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 }
            } else {
                withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { out += $0 }
            }
        }
        return out
    }
}

struct PatchVector {
    var file: String
    var modelSHA256: [UInt8]
    var baseVersion: UInt64
    var newVersion: UInt64
    var createdUnixMs: UInt64
    var signature: [UInt8]
    var parameters: [PatchVectorParameter]
}

struct SampleVector {
    var dims: [Int]
    var kind: Cema_PixelKind
    var pixels: [UInt8]
    var entropy: Float
}

struct UploadVector {
    var file: String
    var deviceID: String
    var sequence: UInt64
    var samples: [SampleVector]
    /// seen, uploaded, excluded_unreliable, excluded_low_information, excluded_redundant
    var counters: [UInt64]?
}

enum WireVectors {
    static func hash(_ text: String) -> [UInt8] { SHA256.digest(Array(text.utf8)) }

    // Encoded by the Swift side (PatchExporter / swift-protobuf).
    static let patchFP32 = PatchVector(
        file: "patch_fp32.bin", modelSHA256: hash("cema wire vector: base model"), baseVersion: 3, newVersion: 4,
        createdUnixMs: 1_764_614_400_000, signature: (0..<64).map { UInt8($0) },
        parameters: [
            PatchVectorParameter(name: "stem.1.weight", kind: .fp32, dims: [4], values: [1, -0.5, 3.25, 1e-3]),
            PatchVectorParameter(name: "stem.1.running_var", kind: .fp32, dims: [4], values: [0.5, 2, 1e-6, 100]),
            // No dims; a negative zero and the smallest subnormal must survive bit for bit.
            PatchVectorParameter(name: "layers.0.bn1.bias", kind: .fp32, dims: [], values: [-0.0, .leastNonzeroMagnitude]),
        ])
    static let patchFP16 = PatchVector(
        file: "patch_fp16.bin", modelSHA256: hash("cema wire vector: base model"), baseVersion: 0, newVersion: 1,
        createdUnixMs: 1_764_614_401_234, signature: [],
        parameters: [
            // 0.1 rounds; -65504 is the largest binary16 magnitude; 2^-14 the smallest normal; 2^-24 the smallest subnormal.
            PatchVectorParameter(name: "stem.1.weight", kind: .fp16, dims: [2, 2], values: [0.1, -65504, 6.1035156e-05, 5.9604645e-08]),
            PatchVectorParameter(name: "stem.1.running_var", kind: .fp16, dims: [4], values: [0.5, 2, 1e-3, 100]),
        ])
    static let uploadBatch = UploadVector(
        file: "upload_batch.bin", deviceID: "board-07", sequence: 42,
        samples: [
            SampleVector(dims: [1, 2, 3], kind: .uint8, pixels: [0, 1, 127, 128, 254, 255], entropy: 0.25),
            SampleVector(dims: [1, 2, 2], kind: .fp16,
                         pixels: [0.0, 0.5, -1.0, 65504].flatMap { (v: Float) -> [UInt8] in
                             let b = Float16(v).bitPattern
                             return [UInt8(b & 0xff), UInt8(b >> 8)]
                         },
                         entropy: 1.5),
        ],
        counters: [640, 12, 300, 320, 8])

    // Encoded by the C side (protobuf-c), with mixed element kinds and default (omitted) fields.
    static let patchFromC = PatchVector(
        file: "patch_from_c.bin", modelSHA256: hash("cema wire vector: C side"), baseVersion: 0, newVersion: 7,
        createdUnixMs: 0, signature: [],
        parameters: [
            PatchVectorParameter(name: "layers.2.bn2.weight", kind: .fp16, dims: [3], values: [1, 0.333251953125, -2]),
            PatchVectorParameter(name: "layers.2.bn2.running_mean", kind: .fp32, dims: [3], values: [0.0625, -7.5, 1e-7]),
        ])
    static let uploadFromC = UploadVector(
        file: "upload_batch_from_c.bin", deviceID: "pi4-kitchen", sequence: 0,
        samples: [SampleVector(dims: [1, 1, 2], kind: .uint8, pixels: [9, 200], entropy: 0)],
        counters: [1, 1, 0, 0, 0])
}

// --- Swift encoders --------------------------------------------------------------------------------------

func swiftPatchBytes(_ v: PatchVector) throws -> [UInt8] {
    let precision = v.parameters[0].kind
    XCTAssertTrue(v.parameters.allSatisfy { $0.kind == precision }, "the exporter writes one precision per patch")
    var message = try PatchExporter.makePatch(
        modelSHA256: v.modelSHA256, baseVersion: v.baseVersion, newVersion: v.newVersion,
        parameters: v.parameters.map { (name: $0.name, dims: $0.dims, values: $0.values) },
        precision: precision, createdUnixMs: v.createdUnixMs)
    message.signature = Data(v.signature)
    return try PatchExporter.serialize(message)
}

func swiftUploadMessage(_ v: UploadVector) -> Cema_UploadBatch {
    var batch = Cema_UploadBatch()
    batch.deviceID = v.deviceID
    batch.sequence = v.sequence
    batch.samples = v.samples.map { s in
        var sample = Cema_Sample()
        sample.dims = s.dims.map { Int64($0) }
        sample.kind = s.kind
        sample.pixels = Data(s.pixels)
        sample.edgeEntropy = s.entropy
        return sample
    }
    if let c = v.counters {
        var counters = Cema_SelectionCounters()
        counters.seen = c[0]
        counters.uploaded = c[1]
        counters.excludedUnreliable = c[2]
        counters.excludedLowInformation = c[3]
        counters.excludedRedundant = c[4]
        batch.counters = counters
    }
    return batch
}

// --- C encoders (protobuf-c structs filled from Swift) -------------------------------------------------

/// Memory handed to protobuf-c structs for one pack call, released together.
final class CAllocations {
    private var blocks: [UnsafeMutableRawPointer] = []

    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        p.initialize(from: values, count: values.count)
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    func cString(_ s: String) -> UnsafeMutablePointer<CChar> { copy(Array(s.utf8CString)) }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: bytes.isEmpty ? nil : copy(bytes))
    }

    deinit { for b in blocks { b.deallocate() } }
}

func packed(_ pack: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>) -> Int32) -> [UInt8] {
    var out: UnsafeMutablePointer<UInt8>? = nil
    var length = 0
    XCTAssertEqual(pack(&out, &length), 0)
    defer { cedge_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: length))
}

func cPatchBytes(_ v: PatchVector) -> [UInt8] {
    let a = CAllocations()
    var tensors: [UnsafeMutablePointer<Cema__NamedTensor>?] = []
    for p in v.parameters {
        let t = a.copy([Cema__NamedTensor()])
        cema__named_tensor__init(t)
        t.pointee.name = a.cString(p.name)
        t.pointee.kind = p.kind == .fp32 ? CEMA__ELEMENT_KIND__ELEMENT_KIND_FP32 : CEMA__ELEMENT_KIND__ELEMENT_KIND_FP16
        t.pointee.n_dims = p.dims.count
        t.pointee.dims = p.dims.isEmpty ? nil : a.copy(p.dims.map { Int64($0) })
        t.pointee.values = a.binary(p.rawBytes)
        tensors.append(t)
    }
    var patch = Cema__ParameterPatch()
    cema__parameter_patch__init(&patch)
    patch.model_sha256 = a.binary(v.modelSHA256)
    patch.base_version = v.baseVersion
    patch.new_version = v.newVersion
    patch.n_params = tensors.count
    patch.params = a.copy(tensors)
    patch.created_unix_ms = v.createdUnixMs
    patch.signature = a.binary(v.signature)
    return withExtendedLifetime(a) { packed { cedge_patch_pack(&patch, $0, $1) } }
}

func cUploadBytes(_ v: UploadVector) -> [UInt8] {
    let a = CAllocations()
    var samples: [UnsafeMutablePointer<Cema__Sample>?] = []
    for s in v.samples {
        let p = a.copy([Cema__Sample()])
        cema__sample__init(p)
        p.pointee.n_dims = s.dims.count
        p.pointee.dims = a.copy(s.dims.map { Int64($0) })
        p.pointee.kind = s.kind == .uint8 ? CEMA__PIXEL_KIND__PIXEL_KIND_UINT8 : CEMA__PIXEL_KIND__PIXEL_KIND_FP16
        p.pointee.pixels = a.binary(s.pixels)
        p.pointee.edge_entropy = s.entropy
        samples.append(p)
    }
    var batch = Cema__UploadBatch()
    cema__upload_batch__init(&batch)
    batch.device_id = a.cString(v.deviceID)
    batch.sequence = v.sequence
    batch.n_samples = samples.count
    batch.samples = a.copy(samples)
    if let c = v.counters {
        let counters = a.copy([Cema__SelectionCounters()])
        cema__selection_counters__init(counters)
        counters.pointee.seen = c[0]
        counters.pointee.uploaded = c[1]
        counters.pointee.excluded_unreliable = c[2]
        counters.pointee.excluded_low_information = c[3]
        counters.pointee.excluded_redundant = c[4]
        batch.counters = counters
    }
    return withExtendedLifetime(a) { packed { cedge_upload_batch_pack(&batch, $0, $1) } }
}

// --- the tests -----------------------------------------------------------------------------------------

final class WireVectorTests: XCTestCase {
    static let rewrite = ProcessInfo.processInfo.environment["CEMA_WRITE_VECTORS"] == "1"
    static let sourceVectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    /// The committed vector, after rewriting it from `fresh` when CEMA_WRITE_VECTORS=1.
    func committed(_ file: String, fresh: [UInt8]) throws -> [UInt8] {
        if Self.rewrite {
            try Data(fresh).write(to: Self.sourceVectors.appendingPathComponent(file))
            return fresh
        }
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil))
        return [UInt8](try Data(contentsOf: folder.appendingPathComponent(file)))
    }

    func expectedPatch(_ v: PatchVector) -> ParameterPatch {
        ParameterPatch(modelSHA256: v.modelSHA256, baseVersion: v.baseVersion, newVersion: v.newVersion,
                       parameters: v.parameters.map {
                           PatchParameter(name: $0.name, kind: $0.kind == .fp32 ? .fp32 : .fp16, dims: $0.dims, values: $0.decodedValues)
                       },
                       createdUnixMs: v.createdUnixMs, signature: v.signature)
    }

    /// Field-by-field comparison; values by bit pattern so -0.0 and subnormals count.
    func assertSame(_ got: ParameterPatch, _ want: ParameterPatch, _ label: String, line: UInt = #line) {
        XCTAssertEqual(got.modelSHA256, want.modelSHA256, label, line: line)
        XCTAssertEqual(got.baseVersion, want.baseVersion, label, line: line)
        XCTAssertEqual(got.newVersion, want.newVersion, label, line: line)
        XCTAssertEqual(got.createdUnixMs, want.createdUnixMs, label, line: line)
        XCTAssertEqual(got.signature, want.signature, label, line: line)
        XCTAssertEqual(got.parameters.count, want.parameters.count, label, line: line)
        for (g, w) in zip(got.parameters, want.parameters) {
            XCTAssertEqual(g.name, w.name, label, line: line)
            XCTAssertEqual(g.kind, w.kind, "\(label) \(w.name)", line: line)
            XCTAssertEqual(g.dims, w.dims, "\(label) \(w.name)", line: line)
            XCTAssertEqual(g.values.map(\.bitPattern), w.values.map(\.bitPattern), "\(label) \(w.name)", line: line)
        }
    }

    /// A swift-protobuf patch as the edge's value type, for the same comparison.
    func fromSwift(_ m: Cema_ParameterPatch) throws -> ParameterPatch {
        ParameterPatch(modelSHA256: [UInt8](m.modelSha256), baseVersion: m.baseVersion, newVersion: m.newVersion,
                       parameters: try m.params.map {
                           PatchParameter(name: $0.name, kind: $0.kind == .fp32 ? .fp32 : .fp16,
                                          dims: $0.dims.map { Int($0) }, values: try PatchReader.floats(of: $0))
                       },
                       createdUnixMs: m.createdUnixMs, signature: [UInt8](m.signature))
    }

    // Swift-made patches: the committed bytes are what the exporter makes today, and the board's C
    // decoder (through EdgeRuntime.PatchDecoder) reads every field back.
    func testSwiftPatchesDecodeInC() throws {
        for v in [WireVectors.patchFP32, WireVectors.patchFP16] {
            let fresh = try swiftPatchBytes(v)
            let bytes = try committed(v.file, fresh: fresh)
            XCTAssertEqual(bytes, fresh, "\(v.file) is not what the exporter writes now; rerun with CEMA_WRITE_VECTORS=1 if the change is intended")
            assertSame(try PatchDecoder.decode(bytes: bytes), expectedPatch(v), v.file)
        }
    }

    // The two encoders are not only compatible but produce the same bytes for the same message.
    func testSwiftAndCEncodersAgreeByteForByte() throws {
        for v in [WireVectors.patchFP32, WireVectors.patchFP16] {
            XCTAssertEqual(try swiftPatchBytes(v), cPatchBytes(v), v.file)
        }
        for v in [WireVectors.uploadBatch, WireVectors.uploadFromC] {
            let swiftBytes: [UInt8] = try swiftUploadMessage(v).serializedBytes()
            XCTAssertEqual(swiftBytes, cUploadBytes(v), v.file)
        }
    }

    func testSwiftUploadBatchDecodesInC() throws {
        let v = WireVectors.uploadBatch
        let fresh: [UInt8] = try swiftUploadMessage(v).serializedBytes()
        let bytes = try committed(v.file, fresh: fresh)
        XCTAssertEqual(bytes, fresh)
        let decoded = try XCTUnwrap(bytes.withUnsafeBufferPointer { cedge_upload_batch_unpack($0.baseAddress, $0.count) })
        defer { cedge_upload_batch_free(decoded) }
        let b = decoded.pointee
        XCTAssertEqual(String(cString: b.device_id), v.deviceID)
        XCTAssertEqual(b.sequence, v.sequence)
        XCTAssertEqual(b.n_samples, v.samples.count)
        for (i, want) in v.samples.enumerated() {
            let s = b.samples[i]!.pointee
            XCTAssertEqual(Array(UnsafeBufferPointer(start: s.dims, count: s.n_dims)), want.dims.map { Int64($0) })
            XCTAssertEqual(s.kind, want.kind == .uint8 ? CEMA__PIXEL_KIND__PIXEL_KIND_UINT8 : CEMA__PIXEL_KIND__PIXEL_KIND_FP16)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: s.pixels.data, count: s.pixels.len)), want.pixels)
            XCTAssertEqual(s.edge_entropy.bitPattern, want.entropy.bitPattern)
        }
        let c = try XCTUnwrap(b.counters).pointee
        XCTAssertEqual([c.seen, c.uploaded, c.excluded_unreliable, c.excluded_low_information, c.excluded_redundant], v.counters)
    }

    // C-made vectors: the committed bytes are what protobuf-c packs today, and swift-protobuf reads them.
    func testCPatchDecodesInSwift() throws {
        let v = WireVectors.patchFromC
        let fresh = cPatchBytes(v)
        let bytes = try committed(v.file, fresh: fresh)
        XCTAssertEqual(bytes, fresh)
        let message = try PatchReader.read(bytes: bytes)
        XCTAssertTrue(message.unknownFields.data.isEmpty)
        assertSame(try fromSwift(message), expectedPatch(v), v.file)
        // And the edge's own decoder agrees with swift-protobuf on the same bytes.
        assertSame(try PatchDecoder.decode(bytes: bytes), expectedPatch(v), "\(v.file) via C")
    }

    func testCUploadBatchDecodesInSwift() throws {
        let v = WireVectors.uploadFromC
        let fresh = cUploadBytes(v)
        let bytes = try committed(v.file, fresh: fresh)
        XCTAssertEqual(bytes, fresh)
        let b = try Cema_UploadBatch(serializedBytes: bytes)
        XCTAssertEqual(b.deviceID, v.deviceID)
        XCTAssertEqual(b.sequence, v.sequence)
        XCTAssertEqual(b.samples.count, v.samples.count)
        for (s, want) in zip(b.samples, v.samples) {
            XCTAssertEqual(s.dims, want.dims.map { Int64($0) })
            XCTAssertEqual(s.kind, want.kind)
            XCTAssertEqual([UInt8](s.pixels), want.pixels)
            XCTAssertEqual(s.edgeEntropy.bitPattern, want.entropy.bitPattern)
        }
        XCTAssertTrue(b.hasCounters)
        let c = b.counters
        XCTAssertEqual([c.seen, c.uploaded, c.excludedUnreliable, c.excludedLowInformation, c.excludedRedundant], v.counters)
    }

    // Every committed vector has a maker here: no stray files that nothing checks.
    func testEveryVectorFileIsChecked() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".bin") }.sorted()
        let known = [WireVectors.patchFP32.file, WireVectors.patchFP16.file, WireVectors.uploadBatch.file,
                     WireVectors.patchFromC.file, WireVectors.uploadFromC.file].sorted()
        if !Self.rewrite { XCTAssertEqual(files, known) }
    }
}
