// CRC-32 (IEEE, reflected 0xEDB88320) over byte arrays, through the shim's table-driven C implementation.
import CEdgeShim

public enum CRC32 {
    /// The CRC of `bytes` ("123456789" gives 0xCBF43926).
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { cedge_crc32(0, $0.baseAddress, $0.count) }
    }

    /// The CRC of `count` bytes of `bytes` from `start`, without copying them out.
    public static func checksum(_ bytes: [UInt8], from start: Int, count: Int) -> UInt32 {
        precondition(start >= 0 && count >= 0 && start + count <= bytes.count, "CRC32 range outside the array")
        return bytes.withUnsafeBufferPointer { cedge_crc32(0, $0.baseAddress.map { $0 + start }, count) }
    }

    /// Eight hex digits, as CRCs are usually printed.
    static func hex(_ value: UInt32) -> String {
        var digits: [UInt8] = []
        for shift in stride(from: 28, through: 0, by: -4) {
            digits.append(Array("0123456789abcdef".utf8)[Int((value >> UInt32(shift)) & 0xf)])
        }
        return "0x" + String(decoding: digits, as: UTF8.self)
    }
}
