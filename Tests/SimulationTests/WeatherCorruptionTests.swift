// snow, frost, fog and the plasma fractal: properties of the layers ImageNet-C blends in.
import XCTest
@testable import Simulation

final class WeatherCorruptionTests: XCTestCase {
    func testPlasmaFractalSpansUnitRangeAndDecaySmoothsIt() {
        func roughness(_ decay: Double) -> Double {
            var total = 0.0
            for seed in 0..<20 {
                var rng = SeededGenerator(seed: UInt64(seed))
                let map = PlasmaFractal.generate(size: 32, decay: decay, rng: &rng)
                XCTAssertEqual(map.min(), 0)
                XCTAssertEqual(map.max(), 1)
                for y in 0..<32 { for x in 0..<31 { total += pow(map[y * 32 + x + 1] - map[y * 32 + x], 2) } }
            }
            return total
        }
        // Faster decay of the random term = less fine detail.
        XCTAssertLessThan(roughness(2.0), roughness(1.4))
    }

    func testSnowBrightensMoreAtHigherSeverity() throws {
        let images = try Fixtures.images(12)
        let gain = Corruption.severities.map { s in Stats.average(images, .snow, severity: s) { Stats.mean($1) - Stats.mean($0) } }
        XCTAssertGreaterThan(gain[0], 10)
        for s in 1..<5 { XCTAssertGreaterThan(gain[s], gain[s - 1], "\(gain)") }
    }

    /// Snow never darkens: whitening plus two non-negative flake layers.
    func testSnowNeverDarkens() throws {
        let image = try Fixtures.images(1)[0]
        for s in Corruption.severities {
            let y = CorruptionSuite(seed: 2).corrupt(image, .snow, severity: s, index: 0)
            XCTAssertTrue(zip(image, y).allSatisfy { $1 >= $0 }, "severity \(s)")
        }
    }

    func testFrostTexturesAreBrightDistinctAndTextured() {
        XCTAssertEqual(FrostTexture.textures.count, 5)
        for t in FrostTexture.textures {
            XCTAssertEqual(Double(t.mean), 0.5, accuracy: 0.1)
            let v = Stats.variance(t.bytes()).squareRoot() / 255
            XCTAssertGreaterThan(v, 0.15, "crystals stand out from the haze")
        }
        XCTAssertEqual(Set(FrostTexture.textures.map(\.pixels)).count, 5)
    }

    /// On a black image frost is exactly c * (a crop of one of the five textures).
    func testFrostOnBlackIsACropOfATexture() {
        let black = [UInt8](repeating: 0, count: 784)
        for index in 0..<4 {
            let y = CorruptionSuite(seed: 4).corrupt(black, .frost, severity: 5, index: index)
            var best = Float.infinity
            for t in FrostTexture.textures {
                for top in 0..<(t.height - 28) { for left in 0..<(t.width - 28) {
                    var worst: Float = 0
                    for p in 0..<784 where worst < best {
                        worst = max(worst, abs(Float(y[p]) / 255 - min(0.75 * t[left + p % 28, top + p / 28], 1)))
                    }
                    best = min(best, worst)
                } }
            }
            XCTAssertLessThanOrEqual(best, 0.5 / 255 + 1e-6)
        }
    }

    /// fog computes (x + c P) max / (max + c): never above the clean maximum, and black stays black.
    func testFogStaysBelowTheCleanMaximum() throws {
        let images = try Fixtures.images(8)
        let suite = CorruptionSuite(seed: 8)
        for (i, image) in images.enumerated() { for s in Corruption.severities {
            let y = suite.corrupt(image, .fog, severity: s, index: i)
            XCTAssertLessThanOrEqual(y.max()!, image.max()!)
            XCTAssertGreaterThan(Stats.variance(zip(y, image).map { UInt8(clamping: Int($0) - Int($1) + 128) }), 4, "fog adds structure")
        } }
        XCTAssertEqual(suite.corrupt([UInt8](repeating: 0, count: 784), .fog, severity: 5, index: 0), [UInt8](repeating: 0, count: 784))
    }
}
