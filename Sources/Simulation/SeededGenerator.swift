// Deterministic random numbers for the corruption suite: xoshiro256** seeded through SplitMix64.
import Foundation

/// A seeded, platform-independent generator. The corruptions draw only from this type (never from
/// `SystemRandomNumberGenerator` or the standard library's `random(in:)`, whose algorithms may change
/// between Swift releases), so a (seed, corruption, severity, index) tuple always yields the same bytes.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// Box-Muller yields normals in pairs; the second one is kept for the next call.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
        spareNormal = nil
    }

    /// Seed for one image of a corrupted data set. Each image gets its own stream, so any subset of a
    /// data set can be produced alone, in any order, on any number of threads, with identical bytes.
    public static func streamSeed(seed: UInt64, corruption: Int, severity: Int, index: Int) -> UInt64 {
        var h = SplitMix64.mix(seed ^ 0x4345_4D41_2D46_4D4E) // "CEMA-FMN": keeps seed 0 away from zero state
        for part in [UInt64(corruption), UInt64(severity), UInt64(truncatingIfNeeded: index)] {
            h = SplitMix64.mix(h &+ part &* 0x9E37_79B9_7F4A_7C15)
        }
        return h
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in [low, high), like `numpy.random.uniform`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// Uniform integer in 0..<bound (Lemire's multiply-and-reject, unbiased).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Two uniform integers in 0..<bound from one 64-bit draw (32-bit Lemire on each half, redrawing a
    /// half only in the rare rejection case). For hot loops such as glass blur's pixel swaps.
    public mutating func integerPair(below bound: Int) -> (Int, Int) {
        precondition(bound > 0 && bound <= Int(UInt32.max), "bound must be in 1...2^32-1")
        let b = UInt64(bound), word = next()
        return (Int(lemire32(word >> 32, b) >> 32), Int(lemire32(word & 0xFFFF_FFFF, b) >> 32))
    }

    /// half * bound, redrawn while its low 32 bits fall in the biased zone (the modulo runs only then).
    @inline(__always) private mutating func lemire32(_ half: UInt64, _ bound: UInt64) -> UInt64 {
        var m = half * bound
        if m & 0xFFFF_FFFF < bound {
            let threshold = (UInt64(1) << 32) % bound
            while m & 0xFFFF_FFFF < threshold { m = (next() >> 32) * bound }
        }
        return m
    }

    /// Uniform integer in [low, high), like `numpy.random.randint(low, high)`.
    public mutating func integer(from low: Int, below high: Int) -> Int {
        low + integer(below: high - low)
    }

    /// Standard normal by the Box-Muller transform.
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let u1 = 1.0 - uniform() // (0, 1]: log stays finite
        let u2 = uniform()
        let radius = (-2.0 * log(u1)).squareRoot()
        let angle = 2.0 * Double.pi * u2
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
    }

    public mutating func normal(mean: Double, standardDeviation: Double) -> Double {
        mean + standardDeviation * normal()
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): expands one 64-bit seed into well-mixed state words.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
