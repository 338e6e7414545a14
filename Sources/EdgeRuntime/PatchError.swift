// Everything that can be wrong with a parameter patch, each case naming what failed; the model is unchanged.
public enum PatchError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a well-formed cema.ParameterPatch, or a field breaks the format's rules.
    case malformed(reason: String)
    /// The patch was made for another model file (hex SHA-256 digests).
    case modelMismatch(expected: String, got: String)
    /// The patch starts from another version than the model is at.
    case baseVersionMismatch(expected: UInt64, got: UInt64)
    /// No initializer of the model has this name.
    case unknownParameter(name: String)
    /// The initializer exists but is not (only) a normalization layer's parameter: weights are never patched.
    case notANormalizationParameter(name: String)
    /// The normalization parameter is stored in another type than float32, which patches do not address.
    case notFloat32(name: String, type: String)
    case duplicateParameter(name: String)
    case elementCountMismatch(name: String, expected: Int, got: Int)
    case nonFiniteValue(name: String, index: Int)
    /// A BatchNormalization running variance must stay above zero (it is divided by its square root).
    case nonPositiveVariance(name: String, index: Int)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed parameter patch: \(reason)"
        case .modelMismatch(let expected, let got):
            if expected.isEmpty { return "the patch is for model \(got), this model was not loaded from a file and has no identity" }
            return "the patch is for model \(got), this model is \(expected)"
        case .baseVersionMismatch(let expected, let got):
            return "the patch applies to version \(got), the model is at version \(expected)"
        case .unknownParameter(let name): return "the patch names '\(name)', which is not an initializer of the model"
        case .notANormalizationParameter(let name):
            return "the patch names '\(name)', which is not a normalization parameter (only those may be patched)"
        case .notFloat32(let name, let type): return "normalization parameter '\(name)' is \(type), patches replace float32 only"
        case .duplicateParameter(let name): return "the patch names '\(name)' more than once"
        case .elementCountMismatch(let name, let expected, let got):
            return "the patch gives \(got) values for '\(name)', which holds \(expected)"
        case .nonFiniteValue(let name, let index): return "value #\(index) of '\(name)' is not finite"
        case .nonPositiveVariance(let name, let index): return "variance #\(index) of '\(name)' is not above zero"
        }
    }
}
