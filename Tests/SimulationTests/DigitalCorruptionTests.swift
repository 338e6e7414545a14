// brightness, contrast, pixelate, jpeg_compression, elastic_transform.
import XCTest
@testable import Simulation

final class DigitalCorruptionTests: XCTestCase {
    var rng = SeededGenerator(seed: 0)

    func testBrightnessRaisesTheMean() throws {
        let images = try Fixtures.images(8)
        var previous = images.map(Stats.mean).reduce(0, +) / 8
        for s in Corruption.severities {
            let mean = Stats.average(images, .brightness, severity: s) { Stats.mean($1) }
            XCTAssertGreaterThan(mean, previous + 10)
            previous = mean
        }
        // Black pixels become the HSV value shift exactly: 0.5 * 255 at severity 5.
        XCTAssertEqual(Corruption.brightness.apply([UInt8](repeating: 0, count: 784), severity: 5, rng: &rng),
                       [UInt8](repeating: 128, count: 784))
    }

    func testContrastScalesTheStandardDeviation() throws {
        let images = try Fixtures.images(8)
        for (s, c) in [0.4, 0.3, 0.2, 0.1, 0.05].enumerated() {
            for image in images {
                let y = Corruption.contrast.apply(image, severity: s + 1, rng: &rng)
                let ratio = Stats.variance(y).squareRoot() / Stats.variance(image).squareRoot()
                XCTAssertEqual(ratio, c, accuracy: 0.01)
                XCTAssertEqual(Stats.mean(y), Stats.mean(image), accuracy: 0.6)
            }
        }
    }

    /// Severity 2 keeps 14 of 28 pixels (2x2 blocks), severity 5 keeps 7 (4x4 blocks); every severity's
    /// output is constant over the boxes of PIL's reduction.
    func testPixelateIsBlocky() throws {
        let image = try Fixtures.images(2)[1]
        func isConstant(_ y: [UInt8], block: Int) -> Bool {
            (0..<784).allSatisfy { p in y[p] == y[(p / 28 / block * block) * 28 + (p % 28) / block * block] }
        }
        XCTAssertTrue(isConstant(Corruption.pixelate.apply(image, severity: 2, rng: &rng), block: 2))
        XCTAssertTrue(isConstant(Corruption.pixelate.apply(image, severity: 5, rng: &rng), block: 4))
        for (s, size) in [16, 14, 11, 8, 7].enumerated() {
            let y = Corruption.pixelate.apply(image, severity: s + 1, rng: &rng)
            let rows = Set((0..<28).map { Array(y[($0 * 28)..<($0 * 28 + 28)]) })
            XCTAssertLessThanOrEqual(rows.count, size, "severity \(s + 1): at most \(size) distinct rows")
            XCTAssertNotEqual(y, image)
        }
    }

    func testPILBoxWeightsAssignEachPixelToOneBox() {
        for size in [16, 14, 11, 8, 7] {
            let m = Digital.pilBox(from: 28, to: size)
            for i in 0..<28 { XCTAssertEqual(m.filter { $0[i] > 0 }.count, 1) }
            for row in m { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-12) }
        }
        XCTAssertEqual(Digital.pilBox(from: 28, to: 16).map { $0.filter { $0 > 0 }.count }, [2, 2, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2])
    }

    func testJPEGShrinksWithQualityAndChangesTheImage() throws {
        let images = try Fixtures.images(16)
        let sizes = [25, 18, 15, 10, 7].map { q in images.map { JPEGCodec.encode($0, width: 28, height: 28, quality: q).count }.reduce(0, +) }
        for s in 1..<5 { XCTAssertLessThan(sizes[s], sizes[s - 1], "\(sizes)") }
        for image in images {
            let y = Corruption.jpegCompression.apply(image, severity: 5, rng: &rng)
            XCTAssertEqual(y.count, 784)
            XCTAssertGreaterThan(Stats.mse(image, y), 20)
            let fine = JPEGCodec.decode(JPEGCodec.encode(image, width: 28, height: 28, quality: 98))
            XCTAssertEqual(fine.width, 28)
            XCTAssertLessThan(Stats.mse(image, fine.pixels), 4, "the codec itself round-trips")
        }
        let header = JPEGCodec.encode(images[0], width: 28, height: 28, quality: 7).prefix(2)
        XCTAssertEqual(Array(header), [0xFF, 0xD8], "a real JPEG stream")
    }

    /// ImageNet-C's elastic constants have two regimes: severities 1-2 are large random affine warps
    /// (+-24 and +-49 of 224 pixels), 3-5 small local wiggles. Damage rises within each regime.
    func testElasticDamageRisesWithinEachRegime() throws {
        let images = try Fixtures.images(24)
        let damage = Corruption.severities.map { s in Stats.average(images, .elasticTransform, severity: s) { Stats.mse($0, $1) } }
        XCTAssertLessThan(damage[0], damage[1], "\(damage)")
        XCTAssertLessThan(damage[2], damage[3] * 1.1, "\(damage)")
        XCTAssertLessThan(damage[3], damage[4], "\(damage)")
        XCTAssertGreaterThan(damage[0], damage[4], "affine regime")
        XCTAssertEqual(Corruption.elasticTransform.apply(Fixtures.midGray, severity: 3, rng: &rng), Fixtures.midGray)
    }

    /// Alpha is rescaled so the displacement field's spread, in image widths, matches ImageNet-C's.
    func testElasticDisplacementSpreadMatchesReference() {
        for (s, p) in Digital.elasticParameters.enumerated() {
            let scaled = Digital.elasticScaled[s]
            let reference = p.alpha * Digital.fieldGain(size: 224, sigma: p.sigma) / 224
            let ours = scaled.alpha * Digital.fieldGain(size: 28, sigma: scaled.sigma) / 28
            XCTAssertEqual(ours, reference, accuracy: 1e-12 + reference * 1e-9)
        }
        // Empirically: smoothed U(-1, 1) noise times alpha at 28 pixels has the predicted spread.
        let p = Digital.elasticScaled[4]
        var g = SeededGenerator(seed: 1), values: [Double] = []
        for _ in 0..<200 {
            var noise = Plane(width: 28, height: 28)
            for i in noise.pixels.indices { noise.pixels[i] = Float(g.uniform(-1, 1)) }
            values.append(p.alpha * Double(LinearMap1D.apply(rows: p.smoothing, columns: p.smoothing, to: noise)[14, 14]))
        }
        let std = (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
        XCTAssertEqual(std, p.alpha * Digital.fieldGain(size: 28, sigma: p.sigma) / 3.0.squareRoot(), accuracy: 0.15 * std)
    }
}
