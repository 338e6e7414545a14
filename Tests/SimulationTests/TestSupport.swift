// Shared fixtures for the Simulation tests: a cached Fashion-MNIST batch and image statistics.
import XCTest
@testable import Simulation

enum Fixtures {
    /// The Debian test split, read once for the whole test run.
    static let testSplit: IDXDataset? = try? FashionMNIST.load(.test)

    struct MissingData: Error, CustomStringConvertible {
        var description: String { "dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist; make test does it)" }
    }

    /// The first `count` test images (the calling test fails when the Debian package is missing).
    static func images(_ count: Int) throws -> [[UInt8]] {
        guard let data = testSplit else { throw MissingData() }
        return (0..<count).map { data.images.image(at: $0) }
    }

    static let midGray = [UInt8](repeating: 128, count: 28 * 28)

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "simulation-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

enum Stats {
    static func mean(_ x: [UInt8]) -> Double { x.reduce(0.0) { $0 + Double($1) } / Double(x.count) }

    static func variance(_ x: [UInt8]) -> Double {
        let m = mean(x)
        return x.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(x.count)
    }

    static func mse(_ a: [UInt8], _ b: [UInt8]) -> Double {
        zip(a, b).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) } / Double(a.count)
    }

    /// Energy of the discrete Laplacian over interior pixels: what a blur must take away.
    static func highFrequencyEnergy(_ x: [UInt8], side: Int = 28) -> Double {
        var energy = 0.0
        for y in 1..<(side - 1) {
            for c in 1..<(side - 1) {
                let v = { (yy: Int, xx: Int) in Double(x[yy * side + xx]) }
                let lap = 4 * v(y, c) - v(y - 1, c) - v(y + 1, c) - v(y, c - 1) - v(y, c + 1)
                energy += lap * lap
            }
        }
        return energy
    }

    /// Averages `metric` of every image corrupted by `corruption` at `severity` (stream indices 0...).
    static func average(_ images: [[UInt8]], _ corruption: Corruption, severity: Int, seed: UInt64 = 11,
                        _ metric: (_ clean: [UInt8], _ corrupted: [UInt8]) -> Double) -> Double {
        let suite = CorruptionSuite(seed: seed)
        var total = 0.0
        for (i, image) in images.enumerated() {
            total += metric(image, suite.corrupt(image, corruption, severity: severity, index: i))
        }
        return total / Double(images.count)
    }
}
