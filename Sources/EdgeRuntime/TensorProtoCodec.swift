// Converts between ONNX TensorProto (initializers, Constant attributes, backend-test .pb files) and Tensor.
import CEdgeShim

public enum TensorProtoCodec {
    /// Copies a decoded TensorProto into a Tensor; `label` names it in errors.
    static func decode(_ proto: UnsafePointer<Onnx__TensorProto>, label: String) throws(ModelLoadError) -> Tensor {
        let t = proto.pointee
        let name = t.name.map { String(cString: $0) } ?? ""
        let shown = name.isEmpty ? label : name
        if (t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
            || t.n_external_data > 0 {
            throw .externalData(tensor: shown)
        }
        if t.segment != nil { throw .invalidTensor(tensor: shown, reason: "segmented tensors are not supported") }
        guard let type = ElementType(rawValue: t.data_type), type != .string else {
            throw .unsupportedElementType(tensor: shown, type: elementTypeName(t.data_type))
        }
        var shape: [Int] = []
        shape.reserveCapacity(t.n_dims)
        var count = 1
        for i in 0..<t.n_dims {
            let d = t.dims[i]
            if d < 0 { throw .invalidTensor(tensor: shown, reason: "negative dimension \(d)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            if overflow || product > Int(Int32.max) { throw .invalidTensor(tensor: shown, reason: "too many elements") }
            count = product
            shape.append(Int(d))
        }

        // Check that the data is all there before allocating for it.
        let typedCount: Int
        let field: String
        switch type {
        case .float32: (typedCount, field) = (t.n_float_data, "float_data")
        case .float64: (typedCount, field) = (t.n_double_data, "double_data")
        case .int64: (typedCount, field) = (t.n_int64_data, "int64_data")
        case .uint64, .uint32: (typedCount, field) = (t.n_uint64_data, "uint64_data")
        default: (typedCount, field) = (t.n_int32_data, "int32_data")
        }
        if t.has_raw_data != 0 {
            let expected = count * type.byteSize
            guard t.raw_data.len == expected else {
                throw .invalidTensor(tensor: shown, reason: "raw_data holds \(t.raw_data.len) bytes, shape \(describeShape(shape)) of \(type.name) needs \(expected)")
            }
        } else if typedCount != count {
            throw .invalidTensor(tensor: shown, reason: "\(field) holds \(typedCount) values, shape \(describeShape(shape)) needs \(count)")
        }
        let tensor = Tensor(type: type, shape: shape)
        let out = tensor.raw
        if t.has_raw_data != 0 {
            if count > 0 { out.copyMemory(from: t.raw_data.data, byteCount: count * type.byteSize) }
            return tensor
        }

        switch type {
        case .float32:
            if count > 0 { out.copyMemory(from: t.float_data, byteCount: count * 4) }
        case .float64:
            if count > 0 { out.copyMemory(from: t.double_data, byteCount: count * 8) }
        case .int64:
            if count > 0 { out.copyMemory(from: t.int64_data, byteCount: count * 8) }
        case .uint64, .uint32:
            for i in 0..<count {
                if type == .uint64 { out.assumingMemoryBound(to: UInt64.self)[i] = t.uint64_data[i] }
                else { out.assumingMemoryBound(to: UInt32.self)[i] = UInt32(truncatingIfNeeded: t.uint64_data[i]) }
            }
        case .int32, .int16, .int8, .uint16, .uint8, .bool, .float16, .bfloat16:
            for i in 0..<count {
                let v = t.int32_data[i]
                switch type {
                case .int32: out.assumingMemoryBound(to: Int32.self)[i] = v
                case .int16: out.assumingMemoryBound(to: Int16.self)[i] = Int16(truncatingIfNeeded: v)
                case .int8: out.assumingMemoryBound(to: Int8.self)[i] = Int8(truncatingIfNeeded: v)
                case .uint16, .float16, .bfloat16:  // 16-bit floats travel as their bit patterns
                    out.assumingMemoryBound(to: UInt16.self)[i] = UInt16(truncatingIfNeeded: v)
                case .uint8: out.assumingMemoryBound(to: UInt8.self)[i] = UInt8(truncatingIfNeeded: v)
                default: out.assumingMemoryBound(to: UInt8.self)[i] = v != 0 ? 1 : 0
                }
            }
        case .string:
            break
        }
        return tensor
    }

    /// Decodes a serialized TensorProto (a backend-test input_N.pb / output_N.pb file).
    public static func decode(bytes: [UInt8], label: String) throws(ModelLoadError) -> (name: String, tensor: Tensor) {
        let proto: UnsafeMutablePointer<Onnx__TensorProto>? = bytes.withUnsafeBufferPointer {
            cedge_onnx_tensor_unpack($0.baseAddress, $0.count)
        }
        guard let proto else { throw .notONNX(reason: "\(label) is not a serialized ONNX TensorProto") }
        defer { cedge_onnx_tensor_free(proto) }
        let name = proto.pointee.name.map { String(cString: $0) } ?? ""
        return (name, try decode(proto, label: label))
    }

    /// Serializes a tensor as a TensorProto with raw_data.
    public static func encode(_ tensor: Tensor, name: String) -> [UInt8] {
        var proto = Onnx__TensorProto()
        onnx__tensor_proto__init(&proto)
        var dims = tensor.shape.map { Int64($0) }
        var nameBytes = Array(name.utf8CString)
        var out: [UInt8] = []
        dims.withUnsafeMutableBufferPointer { dimsBuffer in
            nameBytes.withUnsafeMutableBufferPointer { nameBuffer in
                proto.n_dims = dimsBuffer.count
                proto.dims = dimsBuffer.baseAddress
                proto.has_data_type = 1
                proto.data_type = tensor.type.rawValue
                proto.name = nameBuffer.baseAddress
                proto.has_raw_data = 1
                proto.raw_data.len = tensor.byteCount
                proto.raw_data.data = tensor.raw.assumingMemoryBound(to: UInt8.self)
                var bytes: UnsafeMutablePointer<UInt8>? = nil
                var length = 0
                if cedge_onnx_tensor_pack(&proto, &bytes, &length) == 0, let bytes {
                    out = Array(UnsafeBufferPointer(start: bytes, count: length))
                    cedge_free(bytes)
                }
            }
        }
        return out
    }
}
