// The frame layout shared by serial and TCP links, and the encoding of one frame.
//
// Every integer is little-endian. One frame:
//
//   offset  size  field
//        0     2  sync     0xC3 0x4D, where a receiver starts looking after garbage or a damaged frame
//        2     1  type     1 DATA (a chunk of a message), 2 ACK, 3 NAK
//        3     1  flags    NAK: bit 0 REFUSED (the message is too large; the sender must not retry)
//        4     4  message  message id, chosen by the sender, never reused within a session
//        8     4  chunk    DATA: this chunk's index; ACK/NAK: the next chunk the receiver needs
//                          (ACK with chunk == count: the whole message arrived)
//       12     4  count    number of chunks of the message (at least 1; an empty message has one, empty)
//       16     4  total    the message's length in bytes
//       20     4  mcrc     CRC32 of the whole message: with the id it identifies the message, so a transfer
//                          is only resumed into a buffer of the same message, and checks the reassembly
//       24     2  length   payload bytes in this frame (0 for ACK/NAK; at most the receiver's limit)
//       26     4  hcrc     CRC32 of bytes 0..<26: a damaged length is caught before any payload is awaited
//       30     n  payload  chunk bytes
//     30+n     4  crc      CRC32 (IEEE, reflected 0xEDB88320) of bytes 0..<30+n, header and payload
//
// ACK and NAK echo the message's count, total and mcrc, so a sender ignores answers about another message.
// A receiver that finds a bad header CRC, an unknown type, an oversized length or a bad CRC drops one byte
// and searches for the next sync pair, so a frame that follows garbage or a truncated frame is still found.

enum FrameType: UInt8 {
    case data = 1
    case ack = 2
    case nak = 3
}

struct Frame: Equatable {
    static let sync0: UInt8 = 0xC3
    static let sync1: UInt8 = 0x4D
    static let headerBytes = 30
    /// Header CRC and ids plus the trailing CRC: what a frame costs beyond its payload.
    static let overheadBytes = headerBytes + 4
    /// The length field is 16 bits; receivers choose a limit at or below it.
    static let largestPayload = Int(UInt16.max)
    static let refusedFlag: UInt8 = 1

    var type: FrameType
    var flags: UInt8 = 0
    var messageID: UInt32
    var chunk: UInt32
    var count: UInt32
    var total: UInt32
    var messageCRC: UInt32
    var payload: [UInt8] = []

    /// The frame's bytes on the wire.
    func encoded() -> [UInt8] {
        precondition(payload.count <= Frame.largestPayload, "frame payload over 65535 bytes")
        var out: [UInt8] = []
        out.reserveCapacity(Frame.overheadBytes + payload.count)
        out.append(Frame.sync0)
        out.append(Frame.sync1)
        out.append(type.rawValue)
        out.append(flags)
        appendLE32(&out, messageID)
        appendLE32(&out, chunk)
        appendLE32(&out, count)
        appendLE32(&out, total)
        appendLE32(&out, messageCRC)
        out.append(UInt8(truncatingIfNeeded: payload.count))
        out.append(UInt8(truncatingIfNeeded: payload.count >> 8))
        appendLE32(&out, CRC32.checksum(out))
        out.append(contentsOf: payload)
        appendLE32(&out, CRC32.checksum(out))
        return out
    }
}

func appendLE32(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8(truncatingIfNeeded: v))
    out.append(UInt8(truncatingIfNeeded: v >> 8))
    out.append(UInt8(truncatingIfNeeded: v >> 16))
    out.append(UInt8(truncatingIfNeeded: v >> 24))
}

func readLE32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}
