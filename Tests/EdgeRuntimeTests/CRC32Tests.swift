// CRC-32 (IEEE) against check values computed independently (Python's zlib.crc32, and the catalogue's
// "123456789" -> 0xCBF43926).
import XCTest
import CEdgeShim
@testable import EdgeRuntime

final class CRC32Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(CRC32.checksum(Array("a".utf8)), 0xE8B7_BE43)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
        XCTAssertEqual(CRC32.checksum([UInt8](repeating: 0, count: 32)), 0x190A_55AD)
        XCTAssertEqual(CRC32.checksum([UInt8](repeating: 0xFF, count: 32)), 0xFF6C_AB0B)
        XCTAssertEqual(CRC32.checksum((0..<256).map { UInt8($0) }), 0x2905_8C73)
    }

    func testIncrementalEqualsOneShotAtEverySplit() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        for split in 0...bytes.count {
            let first = bytes.withUnsafeBufferPointer { cedge_crc32(0, $0.baseAddress, split) }
            let both = bytes.withUnsafeBufferPointer { cedge_crc32(first, $0.baseAddress! + split, bytes.count - split) }
            XCTAssertEqual(both, 0x414F_A339, "split at \(split)")
        }
    }

    func testRangeChecksumMatchesCopy() {
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        XCTAssertEqual(CRC32.checksum(bytes, from: 10, count: 50), CRC32.checksum(Array(bytes[10..<60])))
        XCTAssertEqual(CRC32.hex(0xCBF4_3926), "0xcbf43926")
    }
}
