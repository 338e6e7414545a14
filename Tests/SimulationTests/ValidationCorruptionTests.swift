// The four validation corruptions: each checked against a property derived from its definition.
import XCTest
@testable import Simulation

final class ValidationCorruptionTests: XCTestCase {
    /// x + x N(0, c) at mid-gray: the relative deviation (y - x) / x has standard deviation c (the clip at 1
    /// only matters above 2 sigma at severity 5, so severities 1-3 are checked tightly).
    func testSpeckleNoiseRelativeDeviationMatchesSigma() {
        let suite = CorruptionSuite(seed: 3), x = 128.0 / 255
        for (s, c) in [0.15, 0.2, 0.35].enumerated() {
            let values = (0..<64).flatMap { i in suite.corrupt(Fixtures.midGray, .speckleNoise, severity: s + 1, index: i) }
            let relative = values.map { (Double($0) / 255 - x) / x }
            let mean = relative.reduce(0, +) / Double(relative.count)
            let sd = (relative.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(relative.count)).squareRoot()
            XCTAssertEqual(sd, c, accuracy: 0.03 * c, "severity \(s + 1)")
            XCTAssertEqual(mean, 0, accuracy: 0.01)
        }
        // Multiplicative: black pixels stay black.
        let black = [UInt8](repeating: 0, count: 784)
        XCTAssertEqual(suite.corrupt(black, .speckleNoise, severity: 5, index: 0), black)
    }

    /// The impulse response of gaussian_blur keeps unit mass, is symmetric, and spreads more with each
    /// severity; at severity 5 its second moment is the continuous one of a pixel-wide box blurred by
    /// sigma = 6 x 28/224 and sampled back on pixels: sigma^2 + 1/12 + 1/12 (Sheppard's correction).
    func testGaussianBlurImpulseResponseHasTheScaledSigma() {
        var previous = 0.0
        for s in 0..<5 {
            var impulse = Plane(width: 28, height: 28)
            impulse[14, 14] = 1
            let y = Validation.gaussianBlur(impulse, severity: s)
            let mass = y.pixels.reduce(0) { $0 + Double($1) }
            var second = 0.0, first = 0.0
            for yy in 0..<28 { for xx in 0..<28 {
                second += Double(y[xx, yy]) * Double((xx - 14) * (xx - 14))
                first += Double(y[xx, yy]) * Double(xx - 14)
            } }
            XCTAssertEqual(mass, 1, accuracy: 1e-5, "severity \(s + 1)")
            XCTAssertEqual(first, 0, accuracy: 1e-5, "severity \(s + 1)")
            XCTAssertGreaterThan(second, previous + 0.01, "severity \(s + 1) spreads more than \(s)")
            previous = second
        }
        let sigma = 6.0 / 8
        XCTAssertEqual(previous, sigma * sigma + 1.0 / 6, accuracy: 0.03 * (sigma * sigma + 1.0 / 6))
        XCTAssertFalse(Corruption.gaussianBlur.isRandom)
    }

    /// Water (severities 1-3) only adds light; mud (4-5) pulls covered pixels toward the mud gray level and
    /// covers a bounded, non-trivial share of the image.
    func testSpatterWaterBrightensAndMudCoversPartOfTheImage() throws {
        let images = try Fixtures.images(16), suite = CorruptionSuite(seed: 8)
        var changedWater = 0, coveredMud = 0
        for (i, image) in images.enumerated() {
            let water = suite.corrupt(image, .spatter, severity: 2, index: i)
            XCTAssertTrue(zip(image, water).allSatisfy { $1 >= $0 }, "water darkened image \(i)")
            changedWater += zip(image, water).filter { $1 != $0 }.count
            let mud = suite.corrupt(image, .spatter, severity: 5, index: i)
            let gray = Int((Validation.mudGray * 255).rounded())
            for (a, b) in zip(image, mud) where a != b {
                coveredMud += 1
                // Blending toward the mud level never overshoots it.
                XCTAssertLessThanOrEqual(abs(Int(b) - gray), abs(Int(a) - gray) + 1)
            }
        }
        let total = Double(images.count * 784)
        XCTAssertGreaterThan(Double(changedWater) / total, 0.05)
        XCTAssertGreaterThan(Double(coveredMud) / total, 0.02)
        XCTAssertLessThan(Double(coveredMud) / total, 0.9)
    }

    /// clip(x a + b) with ImageNet-C's (a, b), checked on hand-computed pixels.
    func testSaturateScalesIntensity() {
        var rng = SeededGenerator(seed: 0)
        let image = [UInt8](repeating: 100, count: 784)
        let expected: [UInt8] = [30, 10, 200, 255, 255] // 100*0.3, 100*0.1, 200, 100*5+25.5 > 255, clipped
        for s in 1...5 {
            XCTAssertEqual(Corruption.saturate.apply(image, severity: s, rng: &rng), [UInt8](repeating: expected[s - 1], count: 784), "severity \(s)")
        }
    }
}
