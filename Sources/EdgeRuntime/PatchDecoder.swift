// Turns cema.ParameterPatch bytes into a ParameterPatch: protobuf-c decodes, this file checks the format's
// rules, copies into Swift values and frees the C tree. Whether the patch fits a model is Model.check's job.
import CEdgeShim

public enum PatchDecoder {
    public static func decode(bytes: [UInt8]) throws(PatchError) -> ParameterPatch {
        if bytes.isEmpty { throw .malformed(reason: "the patch is empty") }
        let decoded: UnsafeMutablePointer<Cema__ParameterPatch>? = bytes.withUnsafeBufferPointer {
            cedge_patch_unpack($0.baseAddress, $0.count)
        }
        guard let decoded else {
            throw .malformed(reason: "the bytes are not a well-formed protobuf message (truncated or another format)")
        }
        defer { cedge_patch_free(decoded) }
        return try convert(decoded.pointee)
    }

    private static func copyBytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        if b.len == 0 { return [] }
        return Array(UnsafeBufferPointer(start: b.data, count: b.len))
    }

    private static func convert(_ p: Cema__ParameterPatch) throws(PatchError) -> ParameterPatch {
        // Random bytes sometimes decode as a protobuf message; a real patch always names its model.
        guard p.model_sha256.len == SHA256.digestByteCount else {
            throw .malformed(reason: "model_sha256 holds \(p.model_sha256.len) bytes, a SHA-256 digest has \(SHA256.digestByteCount)")
        }
        var parameters: [PatchParameter] = []
        parameters.reserveCapacity(p.n_params)
        for i in 0..<p.n_params {
            parameters.append(try convertTensor(p.params[i]!.pointee, index: i))
        }
        return ParameterPatch(modelSHA256: copyBytes(p.model_sha256), baseVersion: p.base_version,
                              newVersion: p.new_version, parameters: parameters,
                              createdUnixMs: p.created_unix_ms, signature: copyBytes(p.signature))
    }

    private static func convertTensor(_ t: Cema__NamedTensor, index: Int) throws(PatchError) -> PatchParameter {
        let name = t.name.map { String(cString: $0) } ?? ""
        if name.isEmpty { throw .malformed(reason: "parameter #\(index) has no name") }
        let kind: PatchElementKind
        switch t.kind {
        case CEMA__ELEMENT_KIND__ELEMENT_KIND_FP32: kind = .fp32
        case CEMA__ELEMENT_KIND__ELEMENT_KIND_FP16: kind = .fp16
        default: throw .malformed(reason: "parameter '\(name)' has element kind \(t.kind.rawValue), expected FP32 (1) or FP16 (2)")
        }
        let byteCount = t.values.len
        if byteCount % kind.byteSize != 0 {
            throw .malformed(reason: "parameter '\(name)' holds \(byteCount) bytes, not a whole number of \(kind.name) values")
        }
        let count = byteCount / kind.byteSize
        var dims: [Int] = []
        if t.n_dims > 0 {
            var product = 1
            for i in 0..<t.n_dims {
                let d = t.dims[i]
                if d < 0 || d > Int64(Int32.max) { throw .malformed(reason: "parameter '\(name)' has dimension \(d)") }
                let (next, overflow) = product.multipliedReportingOverflow(by: Int(d))
                if overflow { throw .malformed(reason: "parameter '\(name)' has too many elements") }
                product = next
                dims.append(Int(d))
            }
            if product != count {
                throw .malformed(reason: "parameter '\(name)' has dims \(describeShape(dims)) but \(count) values")
            }
        }
        var values = [Float](repeating: 0, count: count)
        if count > 0 {
            let raw = t.values.data!
            // Little-endian on the wire whatever the board's byte order, so assembled byte by byte.
            switch kind {
            case .fp32:
                for i in 0..<count {
                    let b = raw + 4 * i
                    let bits = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
                    values[i] = Float(bitPattern: bits)
                }
            case .fp16:
                for i in 0..<count {
                    let b = raw + 2 * i
                    values[i] = Float(Float16(bitPattern: UInt16(b[0]) | UInt16(b[1]) << 8))
                }
            }
        }
        return PatchParameter(name: name, kind: kind, dims: dims, values: values)
    }
}
