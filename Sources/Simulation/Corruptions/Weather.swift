// snow, frost, fog: ImageNet-C's weather corruptions with their layers generated procedurally at 28 pixels.
import Foundation

enum Weather {
    // MARK: snow

    /// (noise mean, noise std, zoom, threshold, motion radius, motion sigma, image weight), 224-pixel units.
    static let snowParameters: [(mean: Double, std: Double, zoom: Double, threshold: Float, radius: Int, sigma: Double, blend: Float)] = [
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ]

    /// The snow layer is per-pixel noise at 224 pixels (flakes of 2-4.5 pixels, streaks of ~10-25): below one
    /// pixel at 28, so it is built on the 224 grid with the original constants and box-averaged to 28.
    static func snow(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = snowParameters[severity]
        let big = Geometry.side * Geometry.supersampling
        // clipped_zoom(N(mean, std), zoom): only the central big/zoom pixels of the noise are ever sampled.
        let c = Double(big - 1) / 2
        let positions = (0..<big).map { c + (Double($0) - c) / p.zoom }
        let low = Int(positions.first!.rounded(.down)), high = Int(positions.last!.rounded(.up))
        let m = high - low + 1
        var noise = Plane(width: m, height: m)
        for i in noise.pixels.indices { noise.pixels[i] = Float(rng.normal(mean: p.mean, standardDeviation: p.std)) }
        let zoom = LinearMap1D(dense: DenseMap.interpolate(m, at: positions.map { $0 - Double(low) }), inputCount: m)
        let layer = LinearMap1D.apply(rows: zoom, columns: zoom, to: noise).map { $0 < p.threshold ? 0 : min($0, 1) }
        let taps = Blur.motionTaps(radius: p.radius, sigma: p.sigma, angleDegrees: rng.uniform(-135, -45))
        let flakes = motionBlurThenDownsample(layer, taps: taps, factor: Geometry.supersampling)
        let flakesTurned = flakes.rotated180()
        var out = x
        for i in out.pixels.indices {
            let v = x.pixels[i]
            // Gray images: cv2's RGB2GRAY of the image is the image itself.
            let whitened = p.blend * v + (1 - p.blend) * max(v, v * 1.5 + 0.5)
            out.pixels[i] = min(max(whitened + flakes.pixels[i] + flakesTurned.pixels[i], 0), 1)
        }
        return out
    }

    /// Motion blur (edge pixels repeated) followed by a `factor` x `factor` box average, computed from a summed
    /// area table: each tap adds one shifted box sum per output pixel instead of a full-resolution pass.
    static func motionBlurThenDownsample(_ layer: Plane, taps: [(x: Int, y: Int, weight: Double)], factor: Int) -> Plane {
        let pad = taps.map { max(abs($0.x), abs($0.y)) }.max() ?? 0
        let n = layer.width, padded = n + 2 * pad, stride = padded + 1
        var table = [Double](repeating: 0, count: stride * stride)
        let clamped = (0..<padded).map { Border.clamp.index($0 - pad, n) }
        layer.pixels.withUnsafeBufferPointer { px in
            table.withUnsafeMutableBufferPointer { sat in
                for y in 0..<padded {
                    var rowSum = 0.0
                    let row = clamped[y] * n
                    for x in 0..<padded {
                        rowSum += Double(px[row + clamped[x]])
                        sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + rowSum
                    }
                }
            }
        }
        let total = taps.reduce(0) { $0 + $1.weight }
        let outSide = n / factor
        var out = Plane(width: outSide, height: outSide)
        let area = Double(factor * factor)
        for tap in taps {
            let w = tap.weight / total / area
            for by in 0..<outSide {
                let y0 = by * factor + tap.y + pad, y1 = y0 + factor
                for bx in 0..<outSide {
                    let x0 = bx * factor + tap.x + pad, x1 = x0 + factor
                    let sum = table[y1 * stride + x1] - table[y0 * stride + x1] - table[y1 * stride + x0] + table[y0 * stride + x0]
                    out.pixels[by * outSide + bx] += Float(w * sum)
                }
            }
        }
        return out
    }

    // MARK: frost

    /// (image weight, frost weight): clip(a x + b frost).
    static let frostParameters: [(image: Float, frost: Float)] = [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)]

    /// As ImageNet-C: one of the first five frost textures, a random crop of it, blended in.
    static func frost(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = frostParameters[severity]
        let texture = FrostTexture.textures[rng.integer(below: 5)]
        let top = rng.integer(below: texture.height - x.height), left = rng.integer(below: texture.width - x.width)
        var out = x
        for y in 0..<x.height { for xx in 0..<x.width {
            let f = texture[left + xx, top + y]
            out[xx, y] = min(max(p.image * x[xx, y] + p.frost * f, 0), 1)
        } }
        return out
    }

    // MARK: fog

    /// (fog strength, plasma wibble decay).
    static let fogParameters: [(strength: Float, decay: Double)] = [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)]
    /// ImageNet-C crops a 256 plasma map to 224; at 28 pixels a 32 map cropped to 28 keeps its coarse
    /// octaves (one 32-map level = one 256-map level) and drops the three finest, which are sub-pixel here.
    static let fogMapSize = 32

    static func fog(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = fogParameters[severity]
        let plasma = PlasmaFractal.generate(size: fogMapSize, decay: p.decay, rng: &rng)
        let peak = x.maximum
        var out = x
        for y in 0..<x.height { for xx in 0..<x.width {
            let v = x[xx, y] + p.strength * Float(plasma[y * fogMapSize + xx])
            out[xx, y] = min(max(v * peak / (peak + p.strength), 0), 1)
        } }
        return out
    }
}
