// Ed25519 signing of parameter patches in the cloud (swift-crypto): the signature covers the patch encoded
// with its signature field empty, which is the prefix of the signed encoding before field 15.
import Crypto
import EdgeRuntime
import Foundation
import SwiftProtobuf

public enum PatchSignerError: Error, Equatable, CustomStringConvertible {
    case invalidKey(reason: String)
    case notAPatch(reason: String)
    /// The signed encoding does not start with the unsigned one (an encoder that reorders fields).
    case signedBytesNotAPrefix
    case encodingFailed(reason: String)

    public var description: String {
        switch self {
        case .invalidKey(let reason): return "bad signing key: \(reason)"
        case .notAPatch(let reason): return "not a parameter patch: \(reason)"
        case .signedBytesNotAPrefix: return "the encoder did not put the signature last; refusing to sign"
        case .encodingFailed(let reason): return "cannot encode the patch: \(reason)"
        }
    }
}

/// A private signing key; its 32-byte seed is what key files hold.
public struct PatchSigningKey {
    let key: Curve25519.Signing.PrivateKey

    public static func generate() -> PatchSigningKey { PatchSigningKey(key: Curve25519.Signing.PrivateKey()) }

    public init(seed: [UInt8]) throws(PatchSignerError) {
        do { key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw .invalidKey(reason: "an Ed25519 seed has 32 bytes, this one \(seed.count)")
        }
    }

    /// From a key file's contents (32 raw bytes or 64 hex digits).
    public init(keyFile contents: [UInt8]) throws(PatchSignerError) {
        let seed: [UInt8]
        do { seed = try SignatureKeyFile.decode(contents) } catch { throw .invalidKey(reason: error.description) }
        try self.init(seed: seed)
    }

    private init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    public var seed: [UInt8] { [UInt8](key.rawRepresentation) }
    public var publicKey: [UInt8] { [UInt8](key.publicKey.rawRepresentation) }
}

public enum PatchSigner {
    /// The patch in `patchBytes` (signed or not), re-encoded with a fresh signature by `key`.
    public static func sign(patchBytes: [UInt8], with key: PatchSigningKey) throws(PatchSignerError) -> [UInt8] {
        var patch: Cema_ParameterPatch
        do { patch = try Cema_ParameterPatch(serializedBytes: patchBytes) } catch {
            throw .notAPatch(reason: "\(error)")
        }
        if patch.modelSha256.count != SHA256.digestByteCount {
            throw .notAPatch(reason: "model_sha256 holds \(patch.modelSha256.count) bytes")
        }
        patch.signature = Data()
        let unsigned: [UInt8]
        do { unsigned = try patch.serializedBytes() } catch { throw .encodingFailed(reason: "\(error)") }
        let signature: Data
        do { signature = try key.key.signature(for: unsigned) } catch { throw .encodingFailed(reason: "\(error)") }
        patch.signature = signature
        let signed: [UInt8]
        do { signed = try patch.serializedBytes() } catch { throw .encodingFailed(reason: "\(error)") }
        guard signed.count > unsigned.count, Array(signed[0..<unsigned.count]) == unsigned else {
            throw .signedBytesNotAPrefix
        }
        return signed
    }

    /// True when `patchBytes` carries a valid signature by the holder of `publicKey` (a host-side check;
    /// boards verify with libsodium through EdgeRuntime.SignatureVerifier).
    public static func isValid(patchBytes: [UInt8], publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
              var patch = try? Cema_ParameterPatch(serializedBytes: patchBytes) else { return false }
        let signature = patch.signature
        patch.signature = Data()
        guard let unsigned: [UInt8] = try? patch.serializedBytes() else { return false }
        return key.isValidSignature(signature, for: unsigned)
    }
}
