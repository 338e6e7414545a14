// The PNG encoder: signature, chunk layout and CRCs (checked by an independent CRC-32), and pixel data.
import CHostCodecs
import XCTest
@testable import Simulation

final class PNGWriterTests: XCTestCase {
    /// Bitwise CRC-32 (ISO 3309), independent of zlib's table-driven one.
    func crc32Reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func word(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3]) }

    func testChunksAndPixels() {
        let width = 5, height = 3
        let pixels = (0..<15).map { UInt8($0 * 17) }
        let png = PNGWriter.grayscale(pixels, width: width, height: height)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8
        var chunks: [(type: String, data: [UInt8])] = []
        while offset < png.count {
            let length = word(png, offset)
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            XCTAssertEqual(UInt32(word(png, offset + 8 + length)), crc32Reference(typeAndData))
            chunks.append((String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
            offset += 12 + length
        }
        XCTAssertEqual(offset, png.count)
        XCTAssertEqual(chunks.map(\.type), ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(chunks[0].data, [0, 0, 0, 5, 0, 0, 0, 3, 8, 0, 0, 0, 0])
        XCTAssertEqual(Array(png.suffix(4)), [0xAE, 0x42, 0x60, 0x82], "the well-known IEND CRC")

        var raw = [UInt8](repeating: 0, count: 64)
        var rawSize = UInt(raw.count)
        XCTAssertEqual(uncompress(&raw, &rawSize, chunks[1].data, UInt(chunks[1].data.count)), Z_OK)
        var expected: [UInt8] = []
        for y in 0..<height { expected += [0] + pixels[(y * width)..<((y + 1) * width)] }
        XCTAssertEqual(Array(raw.prefix(Int(rawSize))), expected)
    }

    func testContactSheetGeometry() {
        var sheet = ContactSheet()
        sheet.addRow([[UInt8](repeating: 255, count: 784), [UInt8](repeating: 0, count: 784)])
        sheet.addRow([[UInt8](repeating: 7, count: 784)])
        let png = sheet.png(scale: 2, gutter: 2)
        XCTAssertEqual(word(png, 16), 2 * (56 + 2) + 2)
        XCTAssertEqual(word(png, 20), 2 * (56 + 2) + 2)
    }
}
