// Minimal PNG encoder (8-bit grayscale, no filtering) on zlib's compress2 and crc32.
import CHostCodecs

public enum PNGWriter {
    /// PNG bytes of a row-major 8-bit grayscale image.
    public static func grayscale(_ pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(pixels.count == width * height && width > 0 && height > 0)
        var header: [UInt8] = []
        appendWord(&header, UInt32(width))
        appendWord(&header, UInt32(height))
        header += [8, 0, 0, 0, 0] // bit depth 8, colour type 0 (gray), deflate, no filter method, no interlace

        // Each scanline starts with its filter type; 0 (none) keeps the encoder trivial.
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw += pixels[(y * width)..<((y + 1) * width)]
        }
        var compressedSize = compressBound(UInt(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, UInt(raw.count), 9)
        precondition(status == Z_OK, "zlib compress2 failed: \(status)")
        compressed.removeSubrange(Int(compressedSize)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk(&png, type: "IHDR", header)
        appendChunk(&png, type: "IDAT", compressed)
        appendChunk(&png, type: "IEND", [])
        return png
    }

    private static func appendChunk(_ png: inout [UInt8], type: String, _ data: [UInt8]) {
        appendWord(&png, UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        png += typeAndData
        let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        appendWord(&png, UInt32(crc))
    }

    private static func appendWord(_ bytes: inout [UInt8], _ word: UInt32) {
        bytes += [UInt8(word >> 24), UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)]
    }
}
