// Why a patch's Ed25519 signature, or a key file, was not accepted.
public enum SignatureError: Error, Equatable, CustomStringConvertible {
    /// The patch carries no signature (field 15 is absent or empty).
    case missing
    case wrongLength(bytes: Int)
    /// The signature does not verify under the board's public key: forged, altered, or another key's.
    case invalid
    /// The signature field is not the message's last field, so the signed bytes are not well defined.
    case notLastField
    /// The bytes around the signature are not a well-formed protobuf message.
    case malformedMessage(reason: String)
    /// A key file is neither 32 raw bytes nor 64 hex digits.
    case malformedKey(reason: String)
    /// libsodium could not be initialised (no entropy source, ...).
    case cryptoUnavailable

    public var description: String {
        switch self {
        case .missing: return "the patch is not signed"
        case .wrongLength(let n): return "the signature holds \(n) bytes, an Ed25519 signature has 64"
        case .invalid: return "the signature does not verify with this public key (forged, altered, or signed with another key)"
        case .notLastField: return "the signature is not the last field of the patch, so the signed bytes are undefined"
        case .malformedMessage(let reason): return "cannot locate the signature: \(reason)"
        case .malformedKey(let reason): return "bad key file: \(reason)"
        case .cryptoUnavailable: return "libsodium could not be initialised"
        }
    }
}
