// Runs a FrameCodec over a SerialPort: writes what the codec has to send, reads what arrived, and tells
// the codec how much time passed (monotonic clock), one bounded step at a time.

public struct SerialLink {
    public var codec: FrameCodec
    public let port: SerialPort
    private var clock = LinkClock()

    public init(port: SerialPort, codec: FrameCodec) {
        self.port = port
        self.codec = codec
    }

    /// One step: flush output, wait up to `waitMs` for input, feed it, advance the codec's clock.
    /// Returns the events that step produced.
    public mutating func step(waitMs: Int) throws(SerialError) -> [FrameEvent] {
        try port.write(codec.takeOutput())
        let bytes = try port.read(timeoutMs: waitMs)
        if !bytes.isEmpty { codec.receive(bytes) }
        clock.advance(&codec)
        try port.write(codec.takeOutput())
        return codec.takeEvents()
    }

    /// Sends `message` and waits for the peer's one-message reply (the peer answers each message it is
    /// delivered). Fails cleanly when the transfer gives up or nothing comes within `timeoutMs`.
    public mutating func request(_ message: [UInt8], timeoutMs: Int) throws(SerialError) -> [UInt8] {
        do { try codec.send(message) } catch { throw .transfer(error) }
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

/// A first message id that a restarted sender is unlikely to have used recently (see FrameCodecConfiguration).
public func serialSessionMessageID() -> UInt32 {
    UInt32(truncatingIfNeeded: Platform.monotonicNanoseconds() >> 16) | 1
}
