// Everything that can stop the trainer from compiling or running a graph, each case naming what to fix.

public enum TrainerError: Error, Equatable, CustomStringConvertible {
    /// The operator has no training-time implementation (or not with these attributes).
    case unsupportedOperator(op: String, node: String, reason: String)
    /// An attribute value the trainer cannot honour.
    case invalidAttribute(node: String, attribute: String, reason: String)
    /// Shapes that do not fit the operator's rules.
    case shapeError(node: String, reason: String)
    /// A node reads a value that no initializer, graph input or earlier node provides.
    case missingValue(name: String, node: String)
    /// The trainer runs float32 only.
    case notFloat32(value: String, node: String)
    /// An input the trainer never differentiates (a weight, a shape, running statistics) depends on a
    /// trainable parameter, so its gradient would be silently dropped.
    case gradientThroughConstantInput(node: String, input: String)
    /// A value that must be known when the graph is compiled (Reshape's shape, Clip's bounds) is not.
    case valueNeededAtCompile(node: String, input: String)
    /// Training-form normalization needs more than one value per statistic (unbiased variance).
    case batchTooSmall(node: String, valuesPerStatistic: Int)
    /// The graph's inputs/outputs are not one float tensor in and one out with fixed non-batch dims.
    case unsupportedGraphSignature(reason: String)
    /// A caller-supplied buffer or logits array has the wrong length.
    case lengthMismatch(what: String, expected: Int, got: Int)
    case unknownParameter(name: String)

    public var description: String {
        switch self {
        case .unsupportedOperator(let op, let node, let reason):
            return "cannot train through operator \(op) at node '\(node)'" + (reason.isEmpty ? "" : ": \(reason)")
        case .invalidAttribute(let node, let attribute, let reason):
            return "node '\(node)': attribute '\(attribute)' \(reason)"
        case .shapeError(let node, let reason): return "node '\(node)': \(reason)"
        case .missingValue(let name, let node): return "node '\(node)' reads '\(name)', which nothing produces"
        case .notFloat32(let value, let node): return "node '\(node)': value '\(value)' is not float32"
        case .gradientThroughConstantInput(let node, let input):
            return "node '\(node)': input '\(input)' depends on a trainable parameter, but the trainer computes no gradient for it"
        case .valueNeededAtCompile(let node, let input):
            return "node '\(node)': input '\(input)' must be an initializer or Constant"
        case .batchTooSmall(let node, let n):
            return "node '\(node)': batch statistics over \(n) value(s); training form needs at least 2"
        case .unsupportedGraphSignature(let reason): return "unsupported graph signature: \(reason)"
        case .lengthMismatch(let what, let expected, let got):
            return "\(what): expected \(expected) values, got \(got)"
        case .unknownParameter(let name): return "no trainable parameter named '\(name)'"
        }
    }
}
