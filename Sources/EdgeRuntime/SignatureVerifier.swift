// Checks the cloud's Ed25519 signature on an encoded ParameterPatch (libsodium, through the shim) before
// the board decodes, stores or applies anything. The board holds only the public key.
import CEdgeShim

public struct SignatureVerifier {
    public static let signatureBytes = 64
    private static let signatureField: UInt64 = 15

    public let publicKey: [UInt8]

    public init(publicKey: [UInt8]) throws(SignatureError) {
        if publicKey.count != SignatureKeyFile.keyBytes {
            throw .malformedKey(reason: "a public key has 32 bytes, this one \(publicKey.count)")
        }
        self.publicKey = publicKey
    }

    /// From a key file's contents (raw or hex).
    public init(keyFile contents: [UInt8]) throws(SignatureError) {
        try self.init(publicKey: try SignatureKeyFile.decode(contents))
    }

    /// Throws unless `patchBytes` ends with a signature field whose 64 bytes sign everything before it.
    public func verify(patchBytes: [UInt8]) throws(SignatureError) {
        let (signedLength, signature) = try SignatureVerifier.locateSignature(patchBytes)
        if signature.count != SignatureVerifier.signatureBytes { throw .wrongLength(bytes: signature.count) }
        let status = patchBytes.withUnsafeBufferPointer { message in
            signature.withUnsafeBufferPointer { sig in
                publicKey.withUnsafeBufferPointer { key in
                    cedge_ed25519_verify(sig.baseAddress, message.baseAddress, signedLength, key.baseAddress)
                }
            }
        }
        if status == -2 { throw .cryptoUnavailable }
        if status != 0 { throw .invalid }
    }

    /// Walks the message's top-level fields. The signature (field 15) must occur once, as the last field:
    /// encoders write fields in number order, so the signed bytes (the message with the signature empty,
    /// which proto3 omits) are exactly the prefix before it, and nothing after it escapes the signature.
    static func locateSignature(_ bytes: [UInt8]) throws(SignatureError) -> (signedLength: Int, signature: [UInt8]) {
        var i = 0
        var found: (start: Int, value: Range<Int>)?
        while i < bytes.count {
            let fieldStart = i
            let key = try varint(bytes, &i)
            let field = key >> 3
            switch key & 7 {
            case 0: _ = try varint(bytes, &i)
            case 1: i += 8
            case 5: i += 4
            case 2:
                let length = try varint(bytes, &i)
                if length > UInt64(bytes.count - i) { throw .malformedMessage(reason: "field \(field) runs past the end") }
                let valueStart = i
                i += Int(length)
                if field == signatureField {
                    if found != nil { throw .notLastField }
                    found = (fieldStart, valueStart..<i)
                    continue
                }
            default: throw .malformedMessage(reason: "field \(field) has wire type \(key & 7)")
            }
            if i > bytes.count { throw .malformedMessage(reason: "field \(field) runs past the end") }
            if field == signatureField { throw .malformedMessage(reason: "field 15 is not length-delimited") }
            if found != nil { throw .notLastField }
        }
        guard let found, !found.value.isEmpty else { throw .missing }
        return (found.start, Array(bytes[found.value]))
    }

    private static func varint(_ bytes: [UInt8], _ i: inout Int) throws(SignatureError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if shift == 63 && b > 1 { break }
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { break }
        }
        throw .malformedMessage(reason: "a varint is truncated or longer than 64 bits")
    }
}
