// Runs a FrameCodec over a TCPConnection, as SerialLink does over a serial port: the same frames, ACKs and
// retransmissions, so a link that drops and comes back continues where it was. TCP already delivers bytes
// intact and in order; the codec adds message boundaries, size caps, and resumption across reconnects
// (keep the codec, swap the connection).

public struct TCPLink {
    public var codec: FrameCodec
    public private(set) var connection: TCPConnection
    private var clock = LinkClock()

    public init(connection: TCPConnection, codec: FrameCodec) {
        self.connection = connection
        self.codec = codec
    }

    /// Continues over a new connection: what the codec had in flight goes out on it (after a retransmission
    /// timeout, or at once when the peer's codec asks for it), and a receiver that kept its codec resumes
    /// the interrupted message at the last acknowledged chunk.
    public mutating func replaceConnection(_ connection: TCPConnection) {
        self.connection = connection
        _ = codec.takeOutput()   // bytes meant for the dead connection; retransmission re-creates them
    }

    /// One step: flush output, wait up to `waitMs` for input, feed it, advance the codec's clock.
    /// Returns the events that step produced.
    public mutating func step(waitMs: Int) throws(NetworkError) -> [FrameEvent] {
        try connection.write(codec.takeOutput())
        let bytes = try connection.read(timeoutMs: waitMs)
        if !bytes.isEmpty { codec.receive(bytes) }
        clock.advance(&codec)
        try connection.write(codec.takeOutput())
        return codec.takeEvents()
    }

    /// Sends `message` and waits for the peer's one-message reply. Fails cleanly when the transfer gives
    /// up, the connection drops, or nothing comes within `timeoutMs`.
    public mutating func request(_ message: [UInt8], timeoutMs: Int) throws(NetworkError) -> [UInt8] {
        do { try codec.send(message) } catch { throw .transfer(error) }
        return try awaitReply(timeoutMs: timeoutMs)
    }

    /// Steps until a message is delivered (the reply to what is in flight) or something fails.
    public mutating func awaitReply(timeoutMs: Int) throws(NetworkError) -> [UInt8] {
        let start = Platform.monotonicNanoseconds()
        while true {
            for event in try step(waitMs: 10) {
                switch event {
                case .delivered(_, let reply): return reply
                case .failed(_, let error): throw .transfer(error)
                case .sent: break
                }
            }
            if Int((Platform.monotonicNanoseconds() - start) / 1_000_000) > timeoutMs {
                throw .timedOut(waitedMs: timeoutMs)
            }
        }
    }
}

/// Frame settings for TCP: TCP itself never loses or damages bytes, so chunks can be large and the
/// retransmission timer only has to cover a stalled or silently dead peer.
public func tcpFrameConfiguration(firstMessageID: UInt32 = serialSessionMessageID()) -> FrameCodecConfiguration {
    FrameCodecConfiguration(chunkSize: 16 * 1024, maxFramePayload: 16 * 1024, maxMessageBytes: 1 << 20,
                            retransmitAfterMs: 1_000, maxAttempts: 10, firstMessageID: firstMessageID)
}
