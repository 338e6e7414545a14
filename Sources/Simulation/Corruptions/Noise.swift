// gaussian_noise, shot_noise, impulse_noise: per-pixel, so their constants are independent of image size.
import Foundation

enum Noise {
    /// Standard deviation in [0, 1] units.
    static let gaussianSigma: [Double] = [0.08, 0.12, 0.18, 0.26, 0.38]
    /// Photon count at full intensity: x -> Poisson(c x) / c.
    static let shotPhotons: [Int] = [60, 25, 12, 5, 3]
    /// Fraction of pixels replaced by salt or pepper (skimage `random_noise(mode='s&p')`, half each).
    static let impulseAmount: [Double] = [0.03, 0.06, 0.09, 0.17, 0.27]

    static func gaussian(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let sigma = gaussianSigma[severity]
        return x.map { min(max($0 + Float(sigma * rng.normal()), 0), 1) }
    }

    static func shot(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let table = ShotNoiseTable.all[severity]
        var out = x
        for i in out.pixels.indices {
            let level = Int((x.pixels[i] * 255).rounded())
            out.pixels[i] = table.sample(level: level, u: rng.uniform())
        }
        return out
    }

    static func impulse(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let amount = impulseAmount[severity]
        return x.map { value in
            let flipped = rng.uniform() < amount
            let salted = rng.uniform() < 0.5
            return flipped ? (salted ? 1 : 0) : value
        }
    }
}

/// Exact Poisson sampling by CDF inversion. The input has only 256 levels, so each (severity, level)
/// gets a table over the counts that survive the final clip: k >= c all map to 1.
struct ShotNoiseTable {
    let photons: Int
    /// cdf[level][k] = P(K <= k) for K ~ Poisson(photons * level / 255), k = 0..<photons.
    let cdf: [[Double]]

    static let all: [ShotNoiseTable] = Noise.shotPhotons.map(ShotNoiseTable.init(photons:))

    init(photons c: Int) {
        photons = c
        cdf = (0...255).map { level in
            let lambda = Double(c) * Double(level) / 255
            var pmf = exp(-lambda), total = 0.0
            return (0..<c).map { k in
                if k > 0 { pmf *= lambda / Double(k) }
                total += pmf
                return total
            }
        }
    }

    func sample(level: Int, u: Double) -> Float {
        let table = cdf[level]
        var k = 0
        while k < photons && u >= table[k] { k += 1 }
        return Float(k) / Float(photons) // k == photons means "clipped to 1"
    }
}
