// Reads cema.ParameterPatch bytes on the host (swift-protobuf) and summarises them for `cema patch inspect`.
import EdgeRuntime
import Foundation
import SwiftProtobuf

public enum PatchReadError: Error, Equatable, CustomStringConvertible {
    case notAPatch(reason: String)
    case invalidTensor(name: String, reason: String)

    public var description: String {
        switch self {
        case .notAPatch(let reason): return "not a parameter patch: \(reason)"
        case .invalidTensor(let name, let reason): return "parameter '\(name)': \(reason)"
        }
    }
}

/// One parameter of a patch, as `cema patch inspect` lists it.
public struct PatchTensorSummary: Equatable {
    public var name: String
    public var kind: String
    public var dims: [Int]
    public var count: Int
    public var min: Float
    public var max: Float
    public var valueBytes: Int
}

public struct PatchSummary: Equatable {
    public var modelSHA256Hex: String
    public var baseVersion: UInt64
    public var newVersion: UInt64
    public var createdUnixMs: UInt64
    public var signatureBytes: Int
    public var tensors: [PatchTensorSummary]
    /// Size of the encoded patch, what a device downloads.
    public var totalBytes: Int
}

public enum PatchReader {
    public static func read(bytes: [UInt8]) throws(PatchReadError) -> Cema_ParameterPatch {
        if bytes.isEmpty { throw .notAPatch(reason: "the file is empty") }
        let patch: Cema_ParameterPatch
        do { patch = try Cema_ParameterPatch(serializedBytes: bytes) } catch {
            throw .notAPatch(reason: "the bytes are not a well-formed protobuf message (\(error))")
        }
        // Other protobuf messages (or random bytes) can decode as one; a patch always names its model.
        if patch.modelSha256.count != SHA256.digestByteCount {
            throw .notAPatch(reason: "model_sha256 holds \(patch.modelSha256.count) bytes, a SHA-256 digest has 32")
        }
        return patch
    }

    /// A tensor's values widened to Float.
    public static func floats(of tensor: Cema_NamedTensor) throws(PatchReadError) -> [Float] {
        let bytes = [UInt8](tensor.values)
        switch tensor.kind {
        case .fp32:
            guard bytes.count % 4 == 0 else { throw .invalidTensor(name: tensor.name, reason: "\(bytes.count) bytes is not whole fp32 values") }
            return stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            }
        case .fp16:
            guard bytes.count % 2 == 0 else { throw .invalidTensor(name: tensor.name, reason: "\(bytes.count) bytes is not whole fp16 values") }
            return stride(from: 0, to: bytes.count, by: 2).map { i in
                Float(Float16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))
            }
        default:
            throw .invalidTensor(name: tensor.name, reason: "element kind \(tensor.kind.rawValue) is neither FP32 nor FP16")
        }
    }

    public static func summary(bytes: [UInt8]) throws(PatchReadError) -> PatchSummary {
        let patch = try read(bytes: bytes)
        var tensors: [PatchTensorSummary] = []
        for t in patch.params {
            let values = try floats(of: t)
            tensors.append(PatchTensorSummary(
                name: t.name, kind: t.kind == .fp32 ? "fp32" : "fp16", dims: t.dims.map { Int($0) },
                count: values.count, min: values.min() ?? .nan, max: values.max() ?? .nan, valueBytes: t.values.count))
        }
        return PatchSummary(modelSHA256Hex: SHA256.hex([UInt8](patch.modelSha256)), baseVersion: patch.baseVersion,
                            newVersion: patch.newVersion, createdUnixMs: patch.createdUnixMs,
                            signatureBytes: patch.signature.count, tensors: tensors, totalBytes: bytes.count)
    }
}
