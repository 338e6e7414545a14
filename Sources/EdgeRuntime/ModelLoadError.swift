// Everything that can be wrong with a model or its inputs, each case naming what to fix.
public enum ModelLoadError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a decodable ONNX ModelProto (truncated, corrupted, or another format).
    case notONNX(reason: String)
    case fileUnreadable(path: String, reason: String)
    case unsupportedOpset(domain: String, version: Int)
    case unsupportedOperator(op: String, node: String, reason: String)
    /// An operator's shape depends on a value (Reshape's shape, Slice's starts...) that only arrives at
    /// run time; give it as an initializer or as a value fixed when preparing.
    case valueNeededAtPrepare(op: String, node: String, value: String, position: Int)
    /// A node names an input that no initializer, graph input or earlier node provides.
    case missingInput(name: String, node: String)
    case externalData(tensor: String)
    case unsupportedElementType(tensor: String, type: String)
    case invalidTensor(tensor: String, reason: String)
    case invalidAttribute(node: String, attribute: String, reason: String)
    /// Shapes that do not fit an operator's rules, found by shape inference.
    case shapeError(node: String, reason: String)
    case inputShapeMismatch(input: String, expected: String, got: String)
    case inputTypeMismatch(input: String, expected: String, got: String)
    case unknownInput(name: String)
    case missingGraphInput(name: String)
    case invalidModel(reason: String)

    public var description: String {
        switch self {
        case .notONNX(let reason): return "not an ONNX model: \(reason)"
        case .fileUnreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .unsupportedOpset(let domain, let version):
            return "unsupported opset \(domain.isEmpty ? "ai.onnx" : domain) version \(version)"
        case .unsupportedOperator(let op, let node, let reason):
            return "unsupported operator \(op) at node '\(node)'" + (reason.isEmpty ? "" : ": \(reason)")
        case .valueNeededAtPrepare(let op, let node, let value, let position):
            return "unsupported operator \(op) at node '\(node)': input #\(position) ('\(value)') must be known when the model is prepared"
        case .missingInput(let name, let node): return "node '\(node)' reads '\(name)', which nothing produces"
        case .externalData(let tensor):
            return "tensor '\(tensor)' keeps its data in an external file; re-save the model with the data inside"
        case .unsupportedElementType(let tensor, let type): return "tensor '\(tensor)' has unsupported element type \(type)"
        case .invalidTensor(let tensor, let reason): return "tensor '\(tensor)' is invalid: \(reason)"
        case .invalidAttribute(let node, let attribute, let reason):
            return "node '\(node)': attribute '\(attribute)' \(reason)"
        case .shapeError(let node, let reason): return "node '\(node)': \(reason)"
        case .inputShapeMismatch(let input, let expected, let got):
            return "input '\(input)' has shape \(got) but the model expects \(expected)"
        case .inputTypeMismatch(let input, let expected, let got):
            return "input '\(input)' has element type \(got) but the model expects \(expected)"
        case .unknownInput(let name): return "the model has no input named '\(name)'"
        case .missingGraphInput(let name): return "no value supplied for model input '\(name)'"
        case .invalidModel(let reason): return "invalid model: \(reason)"
        }
    }
}
