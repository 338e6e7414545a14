// Reliable message transfer over a byte stream (serial line or TCP): chunking, ACK/NAK, retransmission,
// resumption and at-most-once delivery, as a deterministic state machine. It owns no socket, thread or
// clock: the caller feeds received bytes and elapsed time, and drains bytes to send and events.
// Frame layout: FrameFormat.swift. Stop-and-wait: one chunk in flight, which suits half-duplex serial
// links and keeps the receiver's memory to one message.

public struct FrameCodecConfiguration {
    /// Payload bytes per DATA frame this side sends.
    public var chunkSize: Int
    /// Largest payload this side accepts in a frame (the hard frame cap).
    public var maxFramePayload: Int
    /// Largest message this side sends or accepts (the hard message cap).
    public var maxMessageBytes: Int
    /// A chunk is sent again when no answer came for this long.
    public var retransmitAfterMs: Int
    /// Transmissions of one chunk before the transfer is given up (it can be resumed later).
    public var maxAttempts: Int
    /// The first message id this side uses. A sender that restarts must not reuse ids the receiver
    /// delivered recently (it would take them for repeats): start from a stored or random value.
    public var firstMessageID: UInt32

    public init(chunkSize: Int = 1024, maxFramePayload: Int = 1024, maxMessageBytes: Int = 1 << 20,
                retransmitAfterMs: Int = 250, maxAttempts: Int = 10, firstMessageID: UInt32 = 1) {
        self.chunkSize = chunkSize
        self.maxFramePayload = maxFramePayload
        self.maxMessageBytes = maxMessageBytes
        self.retransmitAfterMs = retransmitAfterMs
        self.maxAttempts = maxAttempts
        self.firstMessageID = firstMessageID
    }
}

/// Something the caller should know about; drained with `FrameCodec.takeEvents()`.
public enum FrameEvent: Equatable {
    /// A whole message from the peer, checked, delivered once.
    case delivered(messageID: UInt32, message: [UInt8])
    /// The peer acknowledged every chunk of a message this side sent.
    case sent(messageID: UInt32)
    /// A message this side sent could not be carried.
    case failed(messageID: UInt32, error: FrameError)
}

/// Counters for logs and tests.
public struct FrameStatistics: Equatable {
    public var framesSent = 0
    public var retransmissions = 0
    public var framesReceived = 0
    /// Damaged frames skipped (bad CRCs, unknown types, oversized lengths), by the parser.
    public var framesDamaged = 0
    /// Garbage bytes dropped while looking for a sync pair.
    public var bytesSkipped = 0
    /// DATA chunks that had already arrived (repeats, or retransmissions after a lost ACK).
    public var duplicateChunks = 0
    /// Whole messages received again after delivery (their last ACK was lost): acknowledged, not delivered.
    public var duplicateMessages = 0
    public var naksSent = 0
    /// Chunks skipped because the receiver already held them (resumed transfers).
    public var chunksResumed = 0
    /// Messages whose chunks all arrived but whose length or CRC32 was wrong: discarded, asked for again.
    public var reassemblyFailures = 0
}

public struct FrameCodec {
    public let configuration: FrameCodecConfiguration
    public private(set) var statistics = FrameStatistics()

    private var parser: FrameParser
    private var outbox: [UInt8] = []
    private var events: [FrameEvent] = []
    private var nextMessageID: UInt32
    private var outgoing: [Outgoing] = []
    private var incoming: Incoming?
    /// Messages delivered most recently (id and CRC), to recognise their retransmissions.
    private var recentlyDelivered: [MessageKey] = []
    private static let rememberedMessages = 32

    public init(_ configuration: FrameCodecConfiguration = FrameCodecConfiguration()) throws(FrameError) {
        if configuration.maxFramePayload < 1 || configuration.maxFramePayload > Frame.largestPayload {
            throw .invalidConfiguration(reason: "maxFramePayload \(configuration.maxFramePayload) is not in 1...\(Frame.largestPayload)")
        }
        if configuration.chunkSize < 1 || configuration.chunkSize > Frame.largestPayload {
            throw .invalidConfiguration(reason: "chunkSize \(configuration.chunkSize) is not in 1...\(Frame.largestPayload)")
        }
        if configuration.maxMessageBytes < 0 || UInt64(configuration.maxMessageBytes) > UInt64(UInt32.max) {
            throw .invalidConfiguration(reason: "maxMessageBytes \(configuration.maxMessageBytes) does not fit the 32-bit length field")
        }
        if configuration.maxAttempts < 1 { throw .invalidConfiguration(reason: "maxAttempts must be at least 1") }
        if configuration.retransmitAfterMs < 1 { throw .invalidConfiguration(reason: "retransmitAfterMs must be at least 1") }
        self.configuration = configuration
        self.parser = FrameParser(maxPayload: configuration.maxFramePayload)
        self.nextMessageID = configuration.firstMessageID
    }

    // MARK: caller interface

    /// Queues `message`; returns its id. Messages go out one after another, in order.
    @discardableResult
    public mutating func send(_ message: [UInt8]) throws(FrameError) -> UInt32 {
        let id = nextMessageID
        try enqueue(message, id: id)
        nextMessageID &+= 1
        return id
    }

    /// Sends `message` again under the id it had, after a `.failed(.retriesExhausted)` or a restart of
    /// this side: the receiver answers the first chunk with the chunk it needs next, so the transfer
    /// continues there, and a message it already delivered is acknowledged without a second delivery.
    public mutating func resume(_ message: [UInt8], messageID: UInt32) throws(FrameError) {
        try enqueue(message, id: messageID)
        if messageID >= nextMessageID { nextMessageID = messageID &+ 1 }
    }

    /// Feeds bytes received from the link.
    public mutating func receive(_ bytes: [UInt8]) {
        parser.append(bytes)
        while let result = parser.next() {
            switch result {
            case .frame(let frame):
                statistics.framesReceived += 1
                handle(frame)
            case .skipped:
                statistics.framesDamaged += 1
            }
        }
        statistics.bytesSkipped = parser.skippedBytes
    }

    /// Tells the codec that `elapsedMs` milliseconds passed (drives retransmission).
    public mutating func tick(elapsedMs: Int) {
        guard !outgoing.isEmpty else { return }
        outgoing[0].sinceSendMs += elapsedMs
        if outgoing[0].sinceSendMs < configuration.retransmitAfterMs { return }
        if outgoing[0].attempts >= configuration.maxAttempts {
            let o = outgoing.removeFirst()
            events.append(.failed(messageID: o.id, error: .retriesExhausted(messageID: o.id, chunk: o.next, attempts: o.attempts)))
            startNext()
            return
        }
        statistics.retransmissions += 1
        transmitCurrentChunk()
    }

    /// Bytes to write to the link, in order; the codec forgets them.
    public mutating func takeOutput() -> [UInt8] {
        defer { outbox = [] }
        return outbox
    }

    public mutating func takeEvents() -> [FrameEvent] {
        defer { events = [] }
        return events
    }

    /// True while a message of this side is queued or in flight.
    public var isSending: Bool { !outgoing.isEmpty }

    // MARK: sending

    private struct Outgoing {
        var id: UInt32
        var message: [UInt8]
        var count: Int
        var crc: UInt32
        /// The chunk in flight (the receiver holds every chunk before it).
        var next: Int = 0
        /// Transmissions of `next` so far.
        var attempts = 0
        var sinceSendMs = 0
    }

    private mutating func enqueue(_ message: [UInt8], id: UInt32) throws(FrameError) {
        if message.count > configuration.maxMessageBytes {
            throw .messageTooLarge(length: message.count, limit: configuration.maxMessageBytes)
        }
        let count = max(1, (message.count + configuration.chunkSize - 1) / configuration.chunkSize)
        outgoing.append(Outgoing(id: id, message: message, count: count, crc: CRC32.checksum(message)))
        if outgoing.count == 1 { transmitCurrentChunk() }
    }

    private mutating func startNext() {
        if !outgoing.isEmpty { transmitCurrentChunk() }
    }

    private mutating func transmitCurrentChunk() {
        let o = outgoing[0]
        let from = o.next * configuration.chunkSize
        let to = min(o.message.count, from + configuration.chunkSize)
        let frame = Frame(type: .data, messageID: o.id, chunk: UInt32(o.next), count: UInt32(o.count),
                          total: UInt32(o.message.count), messageCRC: o.crc, payload: Array(o.message[from..<to]))
        emit(frame)
        outgoing[0].attempts += 1
        outgoing[0].sinceSendMs = 0
    }

    private mutating func handleAnswer(_ frame: Frame) {
        guard !outgoing.isEmpty else { return }
        let o = outgoing[0]
        // An answer about another message (or a stale one from before a restart) changes nothing.
        guard frame.messageID == o.id, frame.count == UInt32(o.count), frame.total == UInt32(o.message.count),
              frame.messageCRC == o.crc, frame.chunk <= frame.count else { return }
        let needed = Int(frame.chunk)
        if frame.type == .nak && frame.flags & Frame.refusedFlag != 0 {
            outgoing.removeFirst()
            events.append(.failed(messageID: o.id, error: .refusedByPeer(messageID: o.id)))
            startNext()
            return
        }
        if needed == o.count && frame.type == .ack {
            outgoing.removeFirst()
            events.append(.sent(messageID: o.id))
            startNext()
            return
        }
        // Only an ACK that moves forward is acted on: answering repeated (duplicated or late) ACKs with
        // a new transmission would double the traffic at every repeat (TFTP's "sorcerer's apprentice").
        // A NAK names the chunk the receiver needs; a repeated NAK for the chunk in flight is ignored too.
        if frame.type == .ack && needed <= o.next { return }
        if frame.type == .nak && needed == o.next { return }
        if frame.type == .ack && needed > o.next + 1 { statistics.chunksResumed += needed - o.next - 1 }
        outgoing[0].next = needed
        outgoing[0].attempts = 0
        transmitCurrentChunk()
    }

    // MARK: receiving

    private struct MessageKey: Equatable {
        var id: UInt32
        var count: UInt32
        var total: UInt32
        var crc: UInt32
    }

    private struct Incoming {
        var key: MessageKey
        var buffer: [UInt8] = []
        var next: UInt32 = 0
    }

    private mutating func handle(_ frame: Frame) {
        switch frame.type {
        case .ack, .nak: handleAnswer(frame)
        case .data: handleData(frame)
        }
    }

    private mutating func handleData(_ frame: Frame) {
        let key = MessageKey(id: frame.messageID, count: frame.count, total: frame.total, crc: frame.messageCRC)
        if Int(frame.total) > configuration.maxMessageBytes {
            answer(.nak, key, chunk: 0, flags: Frame.refusedFlag)
            return
        }
        // A header that passed its CRC can still be inconsistent if the sender is broken; such a frame
        // is dropped (the sender will time out) rather than trusted.
        let maxCount = max(1, Int(frame.total))
        guard frame.count >= 1, Int(frame.count) <= maxCount, frame.chunk < frame.count,
              frame.payload.count <= Int(frame.total) else { return }
        if recentlyDelivered.contains(key) {
            statistics.duplicateMessages += 1
            answer(.ack, key, chunk: frame.count)
            return
        }
        if incoming?.key != key {
            // Chunk 0 of a new message replaces a partial one: that sender has moved on. Any other chunk
            // of an unknown message asks for the start (e.g. this side restarted mid-transfer).
            if frame.chunk != 0 {
                answer(.nak, key, chunk: 0)
                return
            }
            incoming = Incoming(key: key)
        }
        var current = incoming!
        if frame.chunk < current.next {
            statistics.duplicateChunks += 1
            answer(.ack, key, chunk: current.next)
            return
        }
        if frame.chunk > current.next {
            answer(.nak, key, chunk: current.next)
            return
        }
        if current.buffer.count + frame.payload.count > Int(frame.total) {
            incoming = nil
            answer(.nak, key, chunk: 0)
            return
        }
        current.buffer.append(contentsOf: frame.payload)
        current.next += 1
        if current.next < current.key.count {
            incoming = current
            answer(.ack, key, chunk: current.next)
            return
        }
        incoming = nil
        if current.buffer.count != Int(key.total) || CRC32.checksum(current.buffer) != key.crc {
            statistics.reassemblyFailures += 1
            answer(.nak, key, chunk: 0)
            return
        }
        recentlyDelivered.append(key)
        if recentlyDelivered.count > FrameCodec.rememberedMessages { recentlyDelivered.removeFirst() }
        events.append(.delivered(messageID: key.id, message: current.buffer))
        answer(.ack, key, chunk: key.count)
    }

    private mutating func answer(_ type: FrameType, _ key: MessageKey, chunk: UInt32, flags: UInt8 = 0) {
        if type == .nak { statistics.naksSent += 1 }
        emit(Frame(type: type, flags: flags, messageID: key.id, chunk: chunk, count: key.count, total: key.total,
                   messageCRC: key.crc))
    }

    private mutating func emit(_ frame: Frame) {
        statistics.framesSent += 1
        outbox.append(contentsOf: frame.encoded())
    }
}
