// Builds and serializes the cema.ParameterPatch the cloud sends to a device (swift-protobuf types).
import EdgeRuntime
import Foundation
import SwiftProtobuf

/// Precision of the values in a patch: fp16 halves the download, fp32 carries the cloud's values exactly.
public enum PatchPrecision: String, CaseIterable {
    case fp32, fp16

    var elementKind: Cema_ElementKind { self == .fp32 ? .fp32 : .fp16 }
}

public enum PatchExportError: Error, Equatable, CustomStringConvertible {
    case invalidModelHash(byteCount: Int)
    case nonFiniteValue(name: String, index: Int)
    /// The value's magnitude is beyond binary16's largest finite value (65504): it would arrive as infinity.
    case notRepresentableInFP16(name: String, index: Int, value: Float)
    case emptyName(index: Int)
    case duplicateParameter(name: String)
    case dimsDoNotMatchValues(name: String, dims: [Int], count: Int)
    case encodingFailed(reason: String)

    public var description: String {
        switch self {
        case .invalidModelHash(let n): return "the model hash has \(n) bytes, a SHA-256 digest has 32"
        case .nonFiniteValue(let name, let index): return "value #\(index) of '\(name)' is not finite"
        case .notRepresentableInFP16(let name, let index, let value):
            return "value #\(index) of '\(name)' (\(value)) is out of fp16 range; export it as fp32"
        case .emptyName(let index): return "parameter #\(index) has no name"
        case .duplicateParameter(let name): return "parameter '\(name)' is given more than once"
        case .dimsDoNotMatchValues(let name, let dims, let count):
            return "parameter '\(name)' has dims \(dims) but \(count) values"
        case .encodingFailed(let reason): return "cannot encode the patch: \(reason)"
        }
    }
}

public enum PatchExporter {
    /// The message for new values of `parameters` (in the order given) on the model whose file hashes to
    /// `modelSHA256`, moving it from `baseVersion` to `newVersion`. `dims` may be empty. The signature
    /// stays empty (signing is the patch store's step).
    public static func makePatch(modelSHA256: [UInt8], baseVersion: UInt64, newVersion: UInt64,
                                 parameters: [(name: String, dims: [Int], values: [Float])],
                                 precision: PatchPrecision, createdUnixMs: UInt64) throws(PatchExportError) -> Cema_ParameterPatch {
        guard modelSHA256.count == SHA256.digestByteCount else { throw .invalidModelHash(byteCount: modelSHA256.count) }
        var patch = Cema_ParameterPatch()
        patch.modelSha256 = Data(modelSHA256)
        patch.baseVersion = baseVersion
        patch.newVersion = newVersion
        patch.createdUnixMs = createdUnixMs
        var names: Set<String> = []
        for (index, p) in parameters.enumerated() {
            if p.name.isEmpty { throw .emptyName(index: index) }
            if !names.insert(p.name).inserted { throw .duplicateParameter(name: p.name) }
            if !p.dims.isEmpty && p.dims.reduce(1, *) != p.values.count {
                throw .dimsDoNotMatchValues(name: p.name, dims: p.dims, count: p.values.count)
            }
            var tensor = Cema_NamedTensor()
            tensor.name = p.name
            tensor.kind = precision.elementKind
            tensor.dims = p.dims.map { Int64($0) }
            tensor.values = Data(try encodeValues(p.values, name: p.name, precision: precision))
            patch.params.append(tensor)
        }
        return patch
    }

    /// Same, from a name -> values map; parameters are written in name order so the bytes are reproducible.
    public static func makePatch(modelSHA256: [UInt8], baseVersion: UInt64, newVersion: UInt64,
                                 values: [String: [Float]], precision: PatchPrecision,
                                 createdUnixMs: UInt64) throws(PatchExportError) -> Cema_ParameterPatch {
        let ordered = values.keys.sorted().map { (name: $0, dims: [Int](), values: values[$0]!) }
        return try makePatch(modelSHA256: modelSHA256, baseVersion: baseVersion, newVersion: newVersion,
                             parameters: ordered, precision: precision, createdUnixMs: createdUnixMs)
    }

    public static func serialize(_ patch: Cema_ParameterPatch) throws(PatchExportError) -> [UInt8] {
        do { return try patch.serializedBytes() } catch { throw .encodingFailed(reason: "\(error)") }
    }

    /// Little-endian raw elements, as NamedTensor.values carries them.
    static func encodeValues(_ values: [Float], name: String, precision: PatchPrecision) throws(PatchExportError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * (precision == .fp32 ? 4 : 2))
        for (i, v) in values.enumerated() {
            if !v.isFinite { throw .nonFiniteValue(name: name, index: i) }
            switch precision {
            case .fp32:
                let bits = v.bitPattern
                out += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                        UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            case .fp16:
                let half = Float16(v)  // round to nearest, ties to even
                if !half.isFinite { throw .notRepresentableInFP16(name: name, index: i, value: v) }
                let bits = half.bitPattern
                out += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
            }
        }
        return out
    }
}
