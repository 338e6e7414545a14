// Blurs: normalised kernels keep the mean, remove more high-frequency energy at higher severity, and have the right shape.
import XCTest
@testable import Simulation

final class BlurCorruptionTests: XCTestCase {
    let blurs: [Corruption] = [.defocusBlur, .glassBlur, .motionBlur, .zoomBlur]

    func testFlatImageStaysFlat() {
        var rng = SeededGenerator(seed: 1)
        for c in blurs { for s in Corruption.severities {
            XCTAssertEqual(c.apply(Fixtures.midGray, severity: s, rng: &rng), Fixtures.midGray, "\(c) \(s)")
        } }
    }

    /// Zoom blur is left out: it magnifies the centre, so a bright garment on black legitimately gains area.
    func testMeanIntensityIsPreserved() throws {
        let images = try Fixtures.images(16)
        for c in [Corruption.defocusBlur, .glassBlur, .motionBlur] { for s in Corruption.severities {
            let shift = Stats.average(images, c, severity: s) { abs(Stats.mean($1) - Stats.mean($0)) }
            XCTAssertLessThan(shift, 1.0, "\(c) severity \(s) moved the mean by \(shift) gray levels")
        } }
    }

    func testHigherSeverityRemovesMoreHighFrequencyEnergy() throws {
        let images = try Fixtures.images(16)
        let clean = images.map { Stats.highFrequencyEnergy($0) }.reduce(0, +) / Double(images.count)
        for c in blurs {
            let energy = Corruption.severities.map { Stats.average(images, c, severity: $0) { Stats.highFrequencyEnergy($1) } }
            XCTAssertLessThan(energy[0], 0.9 * clean, "\(c) severity 1 barely blurs")
            for s in 1..<5 { XCTAssertLessThan(energy[s], energy[s - 1], "\(c): severity \(s + 1) vs \(s): \(energy)") }
        }
    }

    func testDefocusKernelsAreNormalisedSymmetricDisksThatGrow() {
        var previousSpread = 0.0
        for kernel in Blur.defocusKernels {
            XCTAssertEqual(kernel.weights.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(kernel.weights, kernel.weights.reversed(), "point-symmetric")
            XCTAssertEqual(kernel.radiusX, kernel.radiusY)
            let w = 2 * kernel.radiusX + 1
            let spread = kernel.weights.indices.reduce(0.0) { acc, i in
                let dx = Double(i % w - kernel.radiusX), dy = Double(i / w - kernel.radiusY)
                return acc + Double(kernel.weights[i]) * (dx * dx + dy * dy)
            }
            XCTAssertGreaterThan(spread, previousSpread)
            previousSpread = spread
        }
        // A uniform disk of radius r has mean squared radius r^2 / 2; at 28 pixels r = 10 / 8 = 1.25, plus the
        // one-pixel tent (1/6 per axis) of the sub-pixel placement.
        XCTAssertEqual(previousSpread, 1.25 * 1.25 / 2 + 2.0 / 6, accuracy: 0.12)
    }

    /// The response to a single bright pixel is a streak along an angle in [-45, 45] degrees.
    func testMotionBlurIsAStreakNearTheHorizontal() {
        var point = [UInt8](repeating: 0, count: 784)
        point[14 * 28 + 14] = 255
        for index in 0..<20 {
            var rng = CorruptionSuite(seed: 9).generator(.motionBlur, severity: 5, index: index)
            let x = Plane(bytes: point, width: 28, height: 28)
            let y = Blur.motion(x, severity: 4, rng: &rng)
            var (sw, mx, my) = (0.0, 0.0, 0.0)
            for i in 0..<784 { let w = Double(y.pixels[i]); sw += w; mx += w * Double(i % 28); my += w * Double(i / 28) }
            mx /= sw; my /= sw
            var (cxx, cyy, cxy) = (0.0, 0.0, 0.0)
            for i in 0..<784 {
                let w = Double(y.pixels[i]) / sw, dx = Double(i % 28) - mx, dy = Double(i / 28) - my
                cxx += w * dx * dx; cyy += w * dy * dy; cxy += w * dx * dy
            }
            let root = ((cxx - cyy) * (cxx - cyy) / 4 + cxy * cxy).squareRoot()
            let major = (cxx + cyy) / 2 + root, minor = (cxx + cyy) / 2 - root
            XCTAssertGreaterThan(major, 3 * minor, "elongated")
            let angle = 0.5 * atan2(2 * cxy, cxx - cyy) * 180 / .pi
            XCTAssertLessThanOrEqual(abs(angle), 46, "streak angle \(angle)")
            XCTAssertEqual(sw, 1, accuracy: 1e-4, "energy preserved")
        }
    }

    /// Zooming about the centre commutes with a half turn.
    func testZoomBlurIsCentred() throws {
        let image = try Fixtures.images(1)[0]
        var rng = SeededGenerator(seed: 0)
        let turned = Array(image.reversed())
        for s in Corruption.severities {
            let a = Corruption.zoomBlur.apply(turned, severity: s, rng: &rng)
            let b = Array(Corruption.zoomBlur.apply(image, severity: s, rng: &rng).reversed())
            XCTAssertLessThanOrEqual(zip(a, b).map { abs(Int($0) - Int($1)) }.max()!, 1)
        }
        XCTAssertEqual(Blur.zoomFactors.map(\.count), [12, 16, 11, 13, 11], "numpy arange lengths")
    }

    func testGlassBlurDependsOnTheSeed() throws {
        let image = try Fixtures.images(1)[0]
        let suite = CorruptionSuite(seed: 1)
        XCTAssertNotEqual(suite.corrupt(image, .glassBlur, severity: 5, index: 0), suite.corrupt(image, .glassBlur, severity: 5, index: 1))
    }
}
