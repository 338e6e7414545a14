// SHA-256 of byte arrays through the shim's FIPS 180-4 implementation, and its hex spelling for messages.
import CEdgeShim

public enum SHA256 {
    public static let digestByteCount = 32

    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digestByteCount)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { cedge_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        return out
    }

    /// Lower-case hex, two digits a byte (how sha256sum and hashlib print digests).
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for b in bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Incremental hashing, for data that arrives in pieces (a model received over a serial line).
public struct SHA256Hasher {
    private var state = cedge_sha256_state()

    public init() { cedge_sha256_init(&state) }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { cedge_sha256_update(&state, $0.baseAddress, $0.count) }
    }

    /// The digest of everything fed so far; the hasher starts over afterwards.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256.digestByteCount)
        out.withUnsafeMutableBufferPointer { cedge_sha256_final(&state, $0.baseAddress) }
        cedge_sha256_init(&state)
        return out
    }
}
