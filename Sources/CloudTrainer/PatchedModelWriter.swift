// Writes a patched model as an ONNX file: the original bytes re-encoded with the patched initializers'
// current values (protobuf-c in the shim), so every other byte of meaning (nodes, metadata) is kept.
import CEdgeShim
import EdgeRuntime
import Foundation

public enum PatchedModelWriteError: Error, Equatable, CustomStringConvertible {
    case notONNX
    case noGraph
    case unknownInitializer(name: String)
    case notFloat32(name: String)
    case countMismatch(name: String)
    case externalData(name: String)
    case outOfMemory

    public var description: String {
        switch self {
        case .notONNX: return "the original bytes are not an ONNX model"
        case .noGraph: return "the model has no graph"
        case .unknownInitializer(let name): return "the model has no initializer '\(name)'"
        case .notFloat32(let name): return "initializer '\(name)' is not float32"
        case .countMismatch(let name): return "the new values of '\(name)' do not match its shape"
        case .externalData(let name): return "initializer '\(name)' keeps its data in an external file"
        case .outOfMemory: return "out of memory"
        }
    }
}

public enum PatchedModelWriter {
    /// `original` (ONNX bytes) with each named float32 initializer holding `values` instead.
    public static func replacing(_ replacements: [(name: String, values: [Float])], in original: [UInt8]) throws(PatchedModelWriteError) -> [UInt8] {
        // The C side borrows names and values for the duration of the call only.
        let names = replacements.map { strdup($0.name)! }
        defer { for n in names { free(n) } }
        let valueBuffers: [UnsafeMutableBufferPointer<Float>] = replacements.map { r in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(r.values.count, 1))
            _ = b.initialize(from: r.values)
            return b
        }
        defer { for b in valueBuffers { b.deallocate() } }
        var specs: [cedge_float_initializer] = []
        for (i, r) in replacements.enumerated() {
            specs.append(cedge_float_initializer(name: names[i], values: valueBuffers[i].baseAddress, count: r.values.count))
        }

        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var failed = 0
        let status = original.withUnsafeBufferPointer { model in
            specs.withUnsafeBufferPointer { s in
                cedge_onnx_replace_float_initializers(model.baseAddress, model.count, s.baseAddress, s.count,
                                                      &out, &length, &failed)
            }
        }
        let failedName = failed < replacements.count ? replacements[failed].name : ""
        switch status {
        case CEDGE_ONNX_WRITE_OK: break
        case CEDGE_ONNX_WRITE_MALFORMED: throw .notONNX
        case CEDGE_ONNX_WRITE_NO_GRAPH: throw .noGraph
        case CEDGE_ONNX_WRITE_UNKNOWN_INITIALIZER: throw .unknownInitializer(name: failedName)
        case CEDGE_ONNX_WRITE_NOT_FLOAT32: throw .notFloat32(name: failedName)
        case CEDGE_ONNX_WRITE_COUNT_MISMATCH: throw .countMismatch(name: failedName)
        case CEDGE_ONNX_WRITE_EXTERNAL_DATA: throw .externalData(name: failedName)
        default: throw .outOfMemory
        }
        defer { cedge_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// `original` with the named initializers holding what `model` (loaded from `original`) holds now.
    public static func write(_ model: Model, names: [String], original: [UInt8]) throws(PatchedModelWriteError) -> [UInt8] {
        var replacements: [(name: String, values: [Float])] = []
        for name in names {
            guard let t = model.graph.initializers[name] else { throw .unknownInitializer(name: name) }
            guard t.type == .float32 else { throw .notFloat32(name: name) }
            replacements.append((name: name, values: t.floats()))
        }
        return try replacing(replacements, in: original)
    }
}
