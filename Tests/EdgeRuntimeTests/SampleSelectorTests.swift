// CEMA's edge-side upload rules on hand-built logits whose entropies are derived independently (p log p in Double).
import EdgeRuntime
import Foundation
import XCTest

final class SampleSelectorTests: XCTestCase {
    /// Logits [a, 0, ..., 0] over 10 classes; the larger a, the lower the entropy.
    func peaked(_ a: Float, classes: Int = 10) -> [Float] { [a] + [Float](repeating: 0, count: classes - 1) }

    func referenceEntropy(_ z: [Float]) -> Double {
        let e = z.map { Foundation.exp(Double($0)) }
        let s = e.reduce(0, +)
        return -e.map { $0 / s }.map { $0 * Foundation.log($0) }.reduce(0, +)
    }

    func run(_ selector: inout SampleSelector, _ rows: [[Float]]) -> (selected: [Bool], entropy: [Float]) {
        var selected: [Bool] = [], entropy: [Float] = []
        let flat = rows.flatMap { $0 }
        flat.withUnsafeBufferPointer { selector.select(logits: $0.baseAddress!, count: rows.count, selected: &selected, entropy: &entropy) }
        return (selected, entropy)
    }

    func testEntropyMatchesTheDefinition() {
        let cases: [[Float]] = [[0, Float(Foundation.log(3.0))], peaked(0), peaked(2), peaked(9), [100, -100, 3, 1e-3], [-50, -50, -50]]
        for z in cases {
            let h = z.withUnsafeBufferPointer { Entropy.ofLogits($0.baseAddress!, classes: z.count) }
            XCTAssertEqual(Double(h), referenceEntropy(z), accuracy: 1e-5, "\(z)")
        }
        // p = (1/4, 3/4): H = 2 ln 2 - (3/4) ln 3.
        XCTAssertEqual(Double(Entropy.ofLogits([0, Float(Foundation.log(3.0))], classes: 2)), 2 * Foundation.log(2.0) - 0.75 * Foundation.log(3.0), accuracy: 1e-6)
        XCTAssertEqual(Double(Entropy.maximum(classes: 10)), Foundation.log(10.0), accuracy: 1e-6)
    }

    func testUnreliableAndLowInformationSamplesAreExcluded() {
        var s = SampleSelector(classes: 10)
        XCTAssertEqual(Double(s.eMax0), 0.4 * Foundation.log(10.0), accuracy: 1e-6)
        XCTAssertEqual(Double(s.eMin), 0.02 * Foundation.log(10.0), accuracy: 1e-6)
        // Uniform (H = ln 10 = 2.30 > E_max0 = 0.92), peaked(4) (H = 0.57: kept), peaked(12) (H = 7.7e-5 < E_min = 0.046).
        XCTAssertGreaterThan(referenceEntropy(peaked(0)), 0.4 * Foundation.log(10.0))
        XCTAssertLessThan(referenceEntropy(peaked(4)), 0.4 * Foundation.log(10.0))
        XCTAssertGreaterThan(referenceEntropy(peaked(4)), 0.02 * Foundation.log(10.0))
        XCTAssertLessThan(referenceEntropy(peaked(12)), 0.02 * Foundation.log(10.0))
        let (selected, entropy) = run(&s, [peaked(0), peaked(4), peaked(12), peaked(4.5)])
        XCTAssertEqual(selected, [false, true, false, true])
        XCTAssertEqual(Double(entropy[0]), Foundation.log(10.0), accuracy: 1e-5)
        XCTAssertEqual(s.counters.seen, 4)
        XCTAssertEqual(s.counters.selected, 2)
        XCTAssertEqual(s.counters.excludedUnreliable, 1)
        XCTAssertEqual(s.counters.excludedLowInformation, 1)
        XCTAssertEqual(s.counters.excludedRedundant, 0)
    }

    func testThresholdFollowsTheRunningMeanAfterWarmup() {
        var config = SelectorConfig()
        config.warmupBatches = 2
        config.lambda = 0.8
        var s = SampleSelector(classes: 10, config: config)
        let high = peaked(2), low = peaked(5)
        let hHigh = referenceEntropy(high), hLow = referenceEntropy(low)
        let e0 = 0.4 * Foundation.log(10.0)
        _ = run(&s, [high, high])
        XCTAssertEqual(Double(s.currentEMax), e0, accuracy: 1e-6, "warm-up batch 1 uses E_max0")
        _ = run(&s, [high, high])
        XCTAssertEqual(Double(s.currentEMax), e0, accuracy: 1e-6, "warm-up batch 2 uses E_max0")
        XCTAssertEqual(Double(s.warmupMean!), hHigh, accuracy: 1e-5)
        // Batch 3: mean_t = (4 hHigh + 2 hLow) / 6, E_max = 0.8 E_max0 mean_t / hHigh.
        _ = run(&s, [low, low])
        let mean3 = (4 * hHigh + 2 * hLow) / 6
        XCTAssertEqual(Double(s.meanEntropy), mean3, accuracy: 1e-5)
        XCTAssertEqual(Double(s.currentEMax), 0.8 * e0 * mean3 / hHigh, accuracy: 1e-5)
        // A sample just above the tightened gate but below E_max0 is now refused as unreliable.
        var a: Float = 2
        while referenceEntropy(peaked(a)) > Double(s.currentEMax) * 0.98 { a += 0.01 }
        let borderline = peaked(a - 0.2)
        XCTAssertLessThan(referenceEntropy(borderline), e0)
        let before = s.counters.excludedUnreliable
        let (selected, _) = run(&s, [borderline])
        XCTAssertGreaterThan(referenceEntropy(borderline), Double(s.currentEMax))
        XCTAssertEqual(selected, [false])
        XCTAssertEqual(s.counters.excludedUnreliable, before + 1)
    }

    func testRedundancyFilterDropsSamplesAlignedWithWhatWasSent() {
        var config = SelectorConfig()
        config.redundancyFilter = true
        config.redundancyEpsilon = 0.5
        var s = SampleSelector(classes: 4, config: config)
        // First batch: everything reliable passes and sets m ~ the class-0-peaked probabilities.
        let toward0: [Float] = [3, 0, 0, 0], toward2: [Float] = [0, 0, 3, 0]
        let first = run(&s, [toward0, toward0])
        XCTAssertEqual(first.selected, [true, true])
        // cos(p(toward0), m) = 1 -> dropped; cos(p(toward2), m) = 0.2 -> kept (hand-computed: p = (e^3, 1, 1, 1)/(e^3+3)).
        let p0: [Double] = [Foundation.exp(3), 1, 1, 1], p2: [Double] = [1, 1, Foundation.exp(3), 1]
        var dot = 0.0, norm = 0.0
        for c in 0..<4 { dot += p0[c] * p2[c]; norm += p0[c] * p0[c] }
        let cos = dot / norm
        XCTAssertLessThan(cos, 0.5)
        let second = run(&s, [toward0, toward2])
        XCTAssertEqual(second.selected, [false, true])
        XCTAssertEqual(s.counters.excludedRedundant, 1)
        XCTAssertEqual(s.counters.selected, 3)
        let c = s.counters
        let excluded: Int = c.excludedUnreliable + c.excludedLowInformation + c.excludedRedundant
        XCTAssertEqual(c.seen, c.selected + excluded)
    }

    func testLowInformationRuleCanBeTurnedOff() {
        var config = SelectorConfig()
        config.eMinFraction = 0
        var s = SampleSelector(classes: 10, config: config)
        let (selected, _) = run(&s, [peaked(12)])
        XCTAssertEqual(selected, [true])
    }
}
