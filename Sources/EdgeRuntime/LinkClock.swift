// Feeds a FrameCodec the wall-clock time that passed, in whole milliseconds, for every link (serial, TCP).

struct LinkClock {
    private var lastTickNs = Platform.monotonicNanoseconds()

    /// Restarts the count, e.g. when a link takes over an existing codec.
    mutating func reset() { lastTickNs = Platform.monotonicNanoseconds() }

    /// Advances `codec` by the milliseconds since the last call; the remainder carries over, so retransmission
    /// timers never lose time to rounding.
    mutating func advance(_ codec: inout FrameCodec) {
        let elapsed = Int((Platform.monotonicNanoseconds() - lastTickNs) / 1_000_000)
        guard elapsed > 0 else { return }
        codec.tick(elapsedMs: elapsed)
        lastTickNs += UInt64(elapsed) * 1_000_000
    }
}
