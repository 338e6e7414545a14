// The file format of one patch store slot (`active` or `previous`): a checked header and the encoded
// full-state ParameterPatch. Every integer is little-endian.
//
//   offset  size  field
//        0     4  magic "CMPS"
//        4     2  format version (1)
//        6     2  reserved, 0
//        8    32  SHA-256 of the ONNX model the parameters belong to
//       40     8  model version of this state
//       48     8  highest patch version the board had accepted when this file was written (anti-replay)
//       56     4  payload length
//       60    32  SHA-256 of the payload
//       92     4  CRC32 of bytes 0..<92
//       96     n  payload: cema.ParameterPatch, base version 0 -> `version`, every normalization parameter
//
// A torn write (shorter file), a flipped bit or a file of another model fails one of these checks, and the
// store falls back to the other slot.

struct PatchStoreRecord: Equatable {
    static let magic: [UInt8] = Array("CMPS".utf8)
    static let formatVersion: UInt16 = 1
    static let headerBytes = 96

    var modelSHA256: [UInt8]
    var version: UInt64
    var highestAccepted: UInt64
    var payload: [UInt8]

    func encoded() -> [UInt8] {
        var out = PatchStoreRecord.magic
        out.append(UInt8(truncatingIfNeeded: PatchStoreRecord.formatVersion))
        out.append(UInt8(truncatingIfNeeded: PatchStoreRecord.formatVersion >> 8))
        out += [0, 0]
        out += modelSHA256
        appendLE64(&out, version)
        appendLE64(&out, highestAccepted)
        appendLE32(&out, UInt32(payload.count))
        out += SHA256.digest(payload)
        appendLE32(&out, CRC32.checksum(out))
        out += payload
        return out
    }

    /// The record in `bytes`, or why it is unusable (a sentence for the start-up log).
    static func decode(_ bytes: [UInt8]) -> (record: PatchStoreRecord?, problem: String) {
        if bytes.count < headerBytes { return (nil, "\(bytes.count) bytes, shorter than the \(headerBytes)-byte header (torn write)") }
        if Array(bytes[0..<4]) != magic { return (nil, "not a patch store file (bad magic)") }
        let crc = readLE32(bytes, 92), computed = CRC32.checksum(bytes, from: 0, count: 92)
        if crc != computed { return (nil, "header CRC32 \(CRC32.hex(crc)) does not match \(CRC32.hex(computed))") }
        let format = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        if format != formatVersion { return (nil, "format version \(format), this build reads \(formatVersion)") }
        let length = Int(readLE32(bytes, 56))
        if bytes.count != headerBytes + length {
            return (nil, "\(bytes.count - headerBytes) payload bytes, the header says \(length) (torn write)")
        }
        let payload = Array(bytes[headerBytes...])
        if SHA256.digest(payload) != Array(bytes[60..<92]) { return (nil, "payload SHA-256 does not match the header") }
        let record = PatchStoreRecord(modelSHA256: Array(bytes[8..<40]), version: readLE64(bytes, 40),
                                      highestAccepted: readLE64(bytes, 48), payload: payload)
        return (record, "")
    }
}

func appendLE64(_ out: inout [UInt8], _ v: UInt64) {
    appendLE32(&out, UInt32(truncatingIfNeeded: v))
    appendLE32(&out, UInt32(truncatingIfNeeded: v >> 32))
}

func readLE64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    UInt64(readLE32(bytes, at)) | UInt64(readLE32(bytes, at + 4)) << 32
}
