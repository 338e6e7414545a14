// What can go wrong between two FrameCodecs: a damaged or oversized frame (skipped, the link recovers),
// or a message that could not be carried (reported to the caller).
public enum FrameError: Error, Equatable, CustomStringConvertible {
    /// The CRC32 over header and payload does not match (bit errors, a truncated or spliced frame).
    case crcMismatch(expected: UInt32, got: UInt32)
    /// The header's own CRC32 does not match: the length and ids cannot be trusted, so nothing is waited for.
    case headerCRCMismatch(expected: UInt32, got: UInt32)
    /// A frame announces more payload than the receiver accepts.
    case frameTooLarge(length: Int, limit: Int)
    /// A message is larger than the receiver (or this sender) accepts.
    case messageTooLarge(length: Int, limit: Int)
    case unknownFrameType(UInt8)
    /// The header is intact but its fields contradict each other (a chunk index past the count, ...).
    case malformedFrame(reason: String)
    /// The peer acknowledged nothing for `attempts` transmissions of one chunk; the transfer can be
    /// resumed later with `FrameCodec.resume`.
    case retriesExhausted(messageID: UInt32, chunk: Int, attempts: Int)
    /// The peer refused the message (it is larger than the peer accepts); retrying cannot help.
    case refusedByPeer(messageID: UInt32)
    case invalidConfiguration(reason: String)

    public var description: String {
        switch self {
        case .crcMismatch(let expected, let got):
            return "frame CRC32 mismatch: the frame says \(CRC32.hex(expected)), its bytes give \(CRC32.hex(got))"
        case .headerCRCMismatch(let expected, let got):
            return "frame header CRC32 mismatch: the header says \(CRC32.hex(expected)), its bytes give \(CRC32.hex(got))"
        case .frameTooLarge(let length, let limit):
            return "a frame announces \(length) payload bytes, the limit is \(limit)"
        case .messageTooLarge(let length, let limit):
            return "a message of \(length) bytes is over the limit of \(limit)"
        case .unknownFrameType(let t): return "unknown frame type \(t)"
        case .malformedFrame(let reason): return "malformed frame: \(reason)"
        case .retriesExhausted(let id, let chunk, let attempts):
            return "message \(id): chunk \(chunk) was sent \(attempts) times without an acknowledgement"
        case .refusedByPeer(let id): return "message \(id) was refused by the peer (too large)"
        case .invalidConfiguration(let reason): return "invalid frame codec configuration: \(reason)"
        }
    }
}
