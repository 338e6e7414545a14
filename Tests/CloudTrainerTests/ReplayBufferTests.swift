// ReplayBuffer: FIFO eviction at capacity, draws without replacement, uniformity, determinism for a seed.
@testable import CloudTrainer
import XCTest

final class ReplayBufferTests: XCTestCase {
    func sample(_ id: Int) -> [UInt8] { [UInt8(id % 256), UInt8(id / 256), 7] }
    func id(_ b: ReplayBuffer, _ slot: Int) -> Int { b.withSample(slot) { Int($0[0]) + 256 * Int($0[1]) } }

    func testKeepsTheLastCapacitySamples() {
        var b = ReplayBuffer(capacity: 5, sampleBytes: 3)
        for i in 0..<12 { b.append(sample(i)) }
        XCTAssertEqual(b.count, 5)
        XCTAssertEqual(b.total, 12)
        XCTAssertEqual(Set((0..<5).map { id(b, $0) }), Set(7..<12), "the 5 newest of 0...11 remain")
    }

    func testDrawsAreDistinctUniformAndReproducible() {
        var b = ReplayBuffer(capacity: 50, sampleBytes: 3)
        for i in 0..<50 { b.append(sample(i)) }
        var rng = SplitMix64(seed: 42)
        var hits = [Int](repeating: 0, count: 50)
        let rounds = 4000
        for _ in 0..<rounds {
            let slots = b.sampleSlots(10, using: &rng)
            XCTAssertEqual(Set(slots).count, 10, "without replacement")
            for s in slots { hits[s] += 1 }
        }
        // Each slot is drawn with probability 10/50: expected 800 hits, sd sqrt(4000 * 0.2 * 0.8) = 25.3.
        for (slot, h) in hits.enumerated() { XCTAssertEqual(Double(h), 800, accuracy: 5 * 25.3, "slot \(slot)") }
        var a = SplitMix64(seed: 9), c = SplitMix64(seed: 9)
        XCTAssertEqual(b.sampleSlots(20, using: &a), b.sampleSlots(20, using: &c))
    }

    func testGatherCopiesTheChosenSamples() {
        var b = ReplayBuffer(capacity: 4, sampleBytes: 3)
        for i in 0..<4 { b.append(sample(i + 300)) }
        var out = [UInt8](repeating: 0, count: 6)
        out.withUnsafeMutableBufferPointer { b.gather([2, 0], into: $0.baseAddress!) }
        XCTAssertEqual(out, sample(302) + sample(300))
    }
}
