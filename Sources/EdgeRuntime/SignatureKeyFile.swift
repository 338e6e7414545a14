// Key files for patch signing: 32 bytes, stored raw or as 64 hex digits (with optional whitespace).
public enum SignatureKeyFile {
    public static let keyBytes = 32

    /// The 32 key bytes a file holds.
    public static func decode(_ contents: [UInt8]) throws(SignatureError) -> [UInt8] {
        if contents.count == keyBytes { return contents }
        var digits: [UInt8] = []
        for c in contents where !(c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) { digits.append(c) }
        if digits.count != 2 * keyBytes {
            throw .malformedKey(reason: "\(contents.count) bytes; expected 32 raw bytes or 64 hex digits")
        }
        var key: [UInt8] = []
        key.reserveCapacity(keyBytes)
        var i = 0
        while i < digits.count {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else {
                throw .malformedKey(reason: "character \(i) is not a hex digit")
            }
            key.append(hi << 4 | lo)
            i += 2
        }
        return key
    }

    /// The text written to key files: 64 lower-case hex digits and a newline.
    public static func encode(_ key: [UInt8]) -> [UInt8] {
        Array((SHA256.hex(key) + "\n").utf8)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
