// Finds frames in a byte stream that may carry garbage, lost, repeated or damaged bytes: the receiving
// half of FrameFormat.swift. Holds at most one frame of the largest accepted size plus unread input.

/// What the parser found next: a checked frame, or a damaged one it skipped (for counters and logs).
enum FrameParseResult {
    case frame(Frame)
    case skipped(FrameError)
}

struct FrameParser {
    /// Largest payload a frame may announce; longer ones are refused before any payload is read.
    let maxPayload: Int
    private var buffer: [UInt8] = []
    /// Bytes before this index are consumed (compacted lazily to keep appends cheap).
    private var start = 0
    /// Bytes dropped while searching for a sync pair.
    private(set) var skippedBytes = 0

    init(maxPayload: Int) {
        self.maxPayload = maxPayload
    }

    mutating func append(_ bytes: [UInt8]) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next frame or skipped damage, or nil when more bytes are needed.
    mutating func next() -> FrameParseResult? {
        while true {
            guard seekSync() else { return nil }
            if buffer.count - start < Frame.headerBytes { return nil }
            let h = start
            let headerCRC = readLE32(buffer, h + 26)
            let computedHeader = CRC32.checksum(buffer, from: h, count: 26)
            if headerCRC != computedHeader {
                drop(1)
                return .skipped(.headerCRCMismatch(expected: headerCRC, got: computedHeader))
            }
            guard let type = FrameType(rawValue: buffer[h + 2]) else {
                let raw = buffer[h + 2]
                drop(1)
                return .skipped(.unknownFrameType(raw))
            }
            let length = Int(buffer[h + 24]) | Int(buffer[h + 25]) << 8
            if length > maxPayload {
                drop(1)
                return .skipped(.frameTooLarge(length: length, limit: maxPayload))
            }
            let frameBytes = Frame.overheadBytes + length
            if buffer.count - start < frameBytes { return nil }
            let crc = readLE32(buffer, h + Frame.headerBytes + length)
            let computed = CRC32.checksum(buffer, from: h, count: Frame.headerBytes + length)
            if crc != computed {
                drop(1)
                return .skipped(.crcMismatch(expected: crc, got: computed))
            }
            let frame = Frame(type: type, flags: buffer[h + 3], messageID: readLE32(buffer, h + 4),
                              chunk: readLE32(buffer, h + 8), count: readLE32(buffer, h + 12),
                              total: readLE32(buffer, h + 16), messageCRC: readLE32(buffer, h + 20),
                              payload: Array(buffer[(h + Frame.headerBytes)..<(h + Frame.headerBytes + length)]))
            start += frameBytes
            return .frame(frame)
        }
    }

    /// Moves `start` to the next sync pair; false when there is none yet (a trailing first sync byte is kept).
    private mutating func seekSync() -> Bool {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == Frame.sync0 && buffer[i + 1] == Frame.sync1 {
                skippedBytes += i - start
                start = i
                return true
            }
            i += 1
        }
        let keep = (i < buffer.count && buffer[i] == Frame.sync0) ? i : buffer.count
        skippedBytes += keep - start
        start = keep
        return false
    }

    private mutating func drop(_ n: Int) {
        start += n
        skippedBytes += n
    }
}
