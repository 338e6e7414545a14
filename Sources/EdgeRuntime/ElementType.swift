// Tensor element types, numbered as ONNX's TensorProto.DataType so loading needs no translation table.
public enum ElementType: Int32, Sendable {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16

    /// Bytes per element (strings are not stored densely and report 0).
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float32, .int32, .uint32: return 4
        case .int64, .float64, .uint64: return 8
        case .string: return 0
        }
    }

    public var name: String {
        switch self {
        case .float32: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .float64: return "float64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bfloat16: return "bfloat16"
        }
    }

    public var isFloatingPoint: Bool {
        self == .float32 || self == .float64 || self == .float16 || self == .bfloat16
    }
}

/// Describes an ONNX element type code, known or not, for error messages.
func elementTypeName(_ code: Int32) -> String {
    if let type = ElementType(rawValue: code) { return type.name }
    return "type #\(code)"
}
