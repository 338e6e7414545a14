// gaussian/shot/impulse noise: the empirical variance on a mid-gray image matches each severity constant.
import Foundation
import XCTest
@testable import Simulation

final class NoiseCorruptionTests: XCTestCase {
    let gray = 128.0 / 255

    /// Pixel values in [0, 1] of `images` mid-gray images corrupted at `severity`.
    func samples(_ corruption: Corruption, severity: Int, images: Int = 64) -> [Double] {
        let suite = CorruptionSuite(seed: 5)
        return (0..<images).flatMap { i in suite.corrupt(Fixtures.midGray, corruption, severity: severity, index: i).map { Double($0) / 255 } }
    }

    func moments(_ x: [Double]) -> (mean: Double, variance: Double) {
        let m = x.reduce(0, +) / Double(x.count)
        return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count))
    }

    /// Expected mean and variance of a discrete distribution of output values.
    func expected(_ outcomes: [(value: Double, probability: Double)]) -> (mean: Double, variance: Double) {
        let m = outcomes.reduce(0) { $0 + $1.value * $1.probability }
        return (m, outcomes.reduce(0) { $0 + ($1.value - m) * ($1.value - m) * $1.probability })
    }

    func quantised(_ v: Double) -> Double { (min(max(v, 0), 1) * 255).rounded() / 255 }

    func testGaussianNoiseVarianceMatchesSigma() {
        for (s, sigma) in [0.08, 0.12, 0.18, 0.26, 0.38].enumerated() {
            // Clipped and rounded normal, integrated numerically (severities 4-5 clip noticeably at mid-gray).
            let steps = 40_000, lo = -8.0, width = 16.0 / Double(steps)
            let outcomes = (0..<steps).map { k -> (value: Double, probability: Double) in
                let z = lo + (Double(k) + 0.5) * width
                return (quantised(gray + sigma * z), exp(-z * z / 2) / (2 * Double.pi).squareRoot() * width)
            }
            let want = expected(outcomes), got = moments(samples(.gaussianNoise, severity: s + 1))
            XCTAssertEqual(got.variance, want.variance, accuracy: 0.04 * want.variance, "severity \(s + 1)")
            XCTAssertEqual(got.mean, want.mean, accuracy: 0.005, "severity \(s + 1)")
            if s == 0 { XCTAssertEqual(got.variance.squareRoot(), sigma, accuracy: 0.003) }
        }
    }

    func testShotNoiseVarianceMatchesPhotonCount() {
        for (s, c) in [60, 25, 12, 5, 3].enumerated() {
            let lambda = Double(c) * gray
            var pmf = exp(-lambda), outcomes: [(value: Double, probability: Double)] = []
            for k in 0..<200 {
                if k > 0 { pmf *= lambda / Double(k) }
                outcomes.append((quantised(Double(k) / Double(c)), pmf))
            }
            let want = expected(outcomes), got = moments(samples(.shotNoise, severity: s + 1))
            XCTAssertEqual(got.variance, want.variance, accuracy: 0.04 * want.variance, "severity \(s + 1)")
            XCTAssertEqual(got.mean, want.mean, accuracy: 0.005, "severity \(s + 1)")
            if s == 0 { XCTAssertEqual(got.variance, gray / Double(c), accuracy: 0.05 * gray / Double(c)) } // Poisson: var = x / c
        }
    }

    func testImpulseNoiseVarianceMatchesAmount() {
        for (s, amount) in [0.03, 0.06, 0.09, 0.17, 0.27].enumerated() {
            let want = expected([(0, amount / 2), (1, amount / 2), (gray, 1 - amount)])
            let x = samples(.impulseNoise, severity: s + 1)
            let got = moments(x)
            XCTAssertEqual(got.variance, want.variance, accuracy: 0.05 * want.variance, "severity \(s + 1)")
            let replaced = Double(x.filter { $0 != gray }.count) / Double(x.count)
            XCTAssertEqual(replaced, amount, accuracy: 0.01, "severity \(s + 1)")
            XCTAssertTrue(x.allSatisfy { $0 == 0 || $0 == 1 || $0 == gray }, "salt, pepper or untouched")
        }
    }
}
