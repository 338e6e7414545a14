// The whole suite: damage grows with severity, and outputs are reproducible per (seed, corruption, severity, index).
import XCTest
@testable import Simulation

final class CorruptionSuiteTests: XCTestCase {
    func testNamesAndOrderFollowImageNetC() {
        XCTAssertEqual(Corruption.benchmark.map(\.rawValue), [
            "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
            "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
        ])
        XCTAssertEqual(Corruption.validation.map(\.rawValue), ["speckle_noise", "gaussian_blur", "spatter", "saturate"])
        // Validation cases come after the benchmark ones, so the benchmark's per-image seeds never move.
        XCTAssertEqual(Corruption.allCases, Corruption.benchmark + Corruption.validation)
        XCTAssertEqual(Corruption.benchmark.filter(\.isRandom).count, 9)
    }

    /// Mean squared error against the clean image does not fall as severity rises. Every severity of an image
    /// draws from the same generator (common random numbers), so differences come from the constants alone.
    /// 4% slack: with ImageNet-C's constants frost 3 -> 4 only lowers the image weight 0.7 -> 0.65, which on
    /// dark-background images cancels some of the added frost (-1.5% over 2,000 images), and fog 3 and 4 share
    /// the strength 2.5 (+1%). Elastic has two regimes and is checked in its own test; so are the validation
    /// corruptions saturate (darkens at severities 1-2, brightens at 3-5) and spatter (water at 1-3 with falling
    /// intensity, then mud covering less area), which are not monotone in ImageNet-C either.
    func testDamageGrowsWithSeverity() throws {
        let images = try Fixtures.images(32)
        for c in Corruption.allCases where ![.elasticTransform, .saturate, .spatter].contains(c) {
            let damage = Corruption.severities.map { s in
                images.enumerated().reduce(0.0) { total, item in
                    var rng = SeededGenerator(seed: UInt64(item.offset))
                    return total + Stats.mse(item.element, c.apply(item.element, severity: s, rng: &rng))
                } / Double(images.count)
            }
            XCTAssertGreaterThan(damage[0], 1, "\(c) severity 1 changes the images")
            for s in 1..<5 {
                XCTAssertGreaterThanOrEqual(damage[s], 0.96 * damage[s - 1], "\(c) severity \(s + 1) vs \(s): \(damage.map { Int($0) })")
            }
            XCTAssertGreaterThan(damage[4], 1.3 * damage[0], "\(c): \(damage.map { Int($0) })")
        }
    }

    func testSameSeedSameBytesDifferentSeedDifferentBytes() throws {
        let images = try Fixtures.images(3)
        let a = CorruptionSuite(seed: 1), b = CorruptionSuite(seed: 1), c = CorruptionSuite(seed: 2)
        for corruption in Corruption.allCases {
            for (i, image) in images.enumerated() {
                let first = a.corrupt(image, corruption, severity: 3, index: i)
                XCTAssertEqual(first, b.corrupt(image, corruption, severity: 3, index: i), "\(corruption)")
                let other = c.corrupt(image, corruption, severity: 3, index: i)
                if corruption.isRandom {
                    XCTAssertNotEqual(first, other, "\(corruption) ignores the seed")
                    XCTAssertNotEqual(first, a.corrupt(image, corruption, severity: 3, index: i + 1), "\(corruption) ignores the index")
                } else {
                    XCTAssertEqual(first, other, "\(corruption) is deterministic")
                }
            }
        }
    }

    /// A slice corrupts to the same bytes as the same images inside the whole set, whatever the thread split.
    func testSubsetsAndParallelRunsReproduceTheWholeSet() throws {
        guard let data = Fixtures.testSplit?.prefix(70) else { throw Fixtures.MissingData() }
        let suite = CorruptionSuite(seed: 99)
        for corruption in [Corruption.gaussianNoise, .snow, .elasticTransform, .jpegCompression] {
            let whole = suite.corrupt(data.images, corruption, severity: 4)
            let slice = IDXImages(count: 20, rows: 28, columns: 28, pixels: Array(data.images.pixels[(45 * 784)..<(65 * 784)]))
            let part = suite.corrupt(slice, corruption, severity: 4, firstIndex: 45)
            XCTAssertEqual(part.pixels, Array(whole.pixels[(45 * 784)..<(65 * 784)]), "\(corruption)")
            for i in [0, 33, 69] {
                XCTAssertEqual(whole.image(at: i), suite.corrupt(data.images.image(at: i), corruption, severity: 4, index: i))
            }
        }
        let labelled = suite.corrupt(data, .fog, severity: 2)
        XCTAssertEqual(labelled.labels, data.labels)
    }
}
