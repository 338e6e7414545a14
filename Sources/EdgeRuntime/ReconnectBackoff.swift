// When to try a lost connection again: exponential back-off, capped, with jitter so a fleet that lost its
// cloud at the same moment does not reconnect in lockstep. Deterministic for a seed (tests, logs).

public struct BackoffConfig: Equatable {
    /// Wait before the first retry.
    public var initialMs: Int = 500
    /// The wait never grows beyond this.
    public var maximumMs: Int = 30_000
    /// Each failed attempt multiplies the wait by this.
    public var multiplier: Int = 2
    /// Up to this fraction of a wait is taken off at random (0 turns jitter off).
    public var jitter: Float = 0.2

    public init(initialMs: Int = 500, maximumMs: Int = 30_000, multiplier: Int = 2, jitter: Float = 0.2) {
        self.initialMs = initialMs
        self.maximumMs = maximumMs
        self.multiplier = multiplier
        self.jitter = jitter
    }
}

public struct ReconnectBackoff {
    public let config: BackoffConfig
    /// Failed attempts since the last success.
    public private(set) var failures = 0
    private var nominalMs: Int
    private var state: UInt64

    public init(_ config: BackoffConfig = BackoffConfig(), seed: UInt64 = 0x9E37_79B9) {
        self.config = config
        nominalMs = max(1, config.initialMs)
        state = seed | 1
    }

    /// The wait before the next attempt, after one more failure.
    public mutating func nextDelayMs() -> Int {
        failures += 1
        let base = min(nominalMs, config.maximumMs)
        nominalMs = min(config.maximumMs, nominalMs * max(1, config.multiplier))
        guard config.jitter > 0 else { return base }
        // xorshift64: no Foundation random source on the board, and reproducible.
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let unit = Float(state >> 40) / Float(1 << 24)
        return max(1, base - Int(Float(base) * config.jitter * unit))
    }

    /// A connection worked: the next loss starts again from the initial wait.
    public mutating func reset() {
        failures = 0
        nominalMs = max(1, config.initialMs)
    }
}
