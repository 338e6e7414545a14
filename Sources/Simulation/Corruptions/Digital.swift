// brightness, contrast, elastic_transform, pixelate, jpeg_compression.
import Foundation

enum Digital {
    // MARK: brightness, contrast (per image, size-independent)

    /// Added to HSV value. A gray pixel has saturation 0 and value = its intensity, so the HSV round trip
    /// reduces exactly to clip(x + c).
    static let brightnessShift: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5]
    static let contrastFactor: [Float] = [0.4, 0.3, 0.2, 0.1, 0.05]

    static func brightness(_ x: Plane, severity: Int) -> Plane {
        let c = brightnessShift[severity]
        return x.map { min(max($0 + c, 0), 1) }
    }

    /// (x - mean) c + mean with the image mean (per channel in ImageNet-C; one channel here).
    static func contrast(_ x: Plane, severity: Int) -> Plane {
        let c = contrastFactor[severity], mean = x.mean
        return x.map { min(max(($0 - mean) * c + mean, 0), 1) }
    }

    // MARK: elastic_transform

    /// (alpha, sigma, affine jitter) in 224-pixel units; ImageNet-C writes them as 244 * k (a typo it kept).
    static let elasticParameters: [(alpha: Double, sigma: Double, jitter: Double)] = [
        (2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02), (0.07, 0.01, 0.02), (0.12, 0.01, 0.02),
    ].map { (244 * $0.0, 244 * $0.1, 244 * $0.2) }

    /// Scaled per severity: sigma and jitter by 28/224; alpha so that the displacement field's standard
    /// deviation, in image widths, equals ImageNet-C's. Plain 28/224 scaling of alpha would not: one
    /// 28-pixel noise sample stands for 64 independent 224-pixel ones, so the smoothed field is larger.
    static let elasticScaled: [(alpha: Double, sigma: Double, jitter: Double, smoothing: LinearMap1D)] = elasticParameters.map { p in
        let n = Geometry.side, s = Geometry.scale, sigma = p.sigma * s
        let ratio = fieldGain(size: Geometry.referenceSide, sigma: p.sigma) / fieldGain(size: n, sigma: sigma)
        let smoothing = LinearMap1D(dense: DenseMap.gaussian(n, sigma: sigma, truncate: 3, border: .reflect), inputCount: n)
        return (p.alpha * s * ratio, sigma, p.jitter * s, smoothing)
    }

    /// Standard deviation gain of a 2-D gaussian smoothing (skimage: truncate 3, reflect) of unit white
    /// noise at the image centre: the squared L2 norm of the folded 1-D weights.
    static func fieldGain(size: Int, sigma: Double) -> Double {
        let kernel = Kernels.gaussian1D(sigma: sigma, truncate: 3), radius = kernel.count / 2
        var folded = [Double](repeating: 0, count: size)
        for t in -radius...radius { folded[Border.reflect.index(size / 2 + t, size)] += kernel[t + radius] }
        return folded.reduce(0) { $0 + $1 * $1 }
    }

    static func elastic(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = elasticScaled[severity], n = x.width, s = Geometry.scale
        // Random affine: three reference points (ImageNet-C's at 224, scaled), each moved by U(-jitter, jitter).
        let source = [(186.0, 186.0), (186.0, 38.0), (38.0, 38.0)].map { ($0.0 * s, $0.1 * s) }
        let target = source.map { ($0.0 + rng.uniform(-p.jitter, p.jitter), $0.1 + rng.uniform(-p.jitter, p.jitter)) }
        let inverse = AffineMap(from: source, to: target).inverted()
        var warped = Plane(width: n, height: n)
        for y in 0..<n { for xx in 0..<n {
            let (sx, sy) = inverse.apply(Double(xx), Double(y))
            warped[xx, y] = x.bilinear(sx, sy, border: .reflect101) // cv2.warpAffine, BORDER_REFLECT_101
        } }
        func field() -> Plane {
            var noise = Plane(width: n, height: n)
            for i in noise.pixels.indices { noise.pixels[i] = Float(rng.uniform(-1, 1)) }
            return LinearMap1D.apply(rows: p.smoothing, columns: p.smoothing, to: noise)
        }
        let dx = field(), dy = field()
        var out = Plane(width: n, height: n)
        for y in 0..<n { for xx in 0..<n {
            let i = y * n + xx
            let v = warped.bilinear(Double(xx) + p.alpha * Double(dx.pixels[i]), Double(y) + p.alpha * Double(dy.pixels[i]),
                                    border: .reflect) // scipy map_coordinates(order=1, mode='reflect')
            out.pixels[i] = min(max(v, 0), 1)
        } }
        return out
    }

    // MARK: pixelate

    /// Fraction of the side kept: 28 -> 16, 14, 11, 8, 7 pixels (a ratio, so no scaling).
    static let pixelateFactor: [Double] = [0.6, 0.5, 0.4, 0.3, 0.25]

    /// PIL's BOX downsample, then every pixel takes the value of the box it fell into. At 14 and 7 pixels
    /// (integer ratios) and at 11 this is exactly PIL's BOX round trip. At 16 and 8 PIL's enlargement
    /// samples the small image on a grid shifted by up to a pixel against its reduction; at 28 pixels that
    /// misregistration outweighed the resolution loss (severity 1 damaged more than 2), so it is left out.
    static let pixelateMaps: [(down: LinearMap1D, up: LinearMap1D)] = pixelateFactor.map { c in
        let n = Geometry.side, small = Int(Double(n) * c)
        let down = pilBox(from: n, to: small)
        let up = (0..<n).map { i in (0..<small).map { down[$0][i] > 0 ? 1.0 : 0.0 } }
        return (LinearMap1D(dense: down, inputCount: n), LinearMap1D(dense: up, inputCount: small))
    }

    static func pixelate(_ x: Plane, severity: Int) -> Plane {
        let maps = pixelateMaps[severity]
        let small = LinearMap1D.apply(rows: maps.down, columns: maps.down, to: x).map { ($0 * 255).rounded() / 255 } // PIL keeps 8 bits
        return LinearMap1D.apply(rows: maps.up, columns: maps.up, to: small)
    }

    /// PIL's BOX resampling weights: output j averages the input pixels whose centres fall in its footprint
    /// (j + 0.5) * scale +- scale / 2 (Pillow's precompute_coeffs with its box filter).
    static func pilBox(from input: Int, to output: Int) -> [[Double]] {
        let scale = Double(input) / Double(output), filterScale = max(scale, 1), support = 0.5 * filterScale
        return (0..<output).map { j in
            let centre = (Double(j) + 0.5) * scale
            let low = max(Int(centre - support + 0.5), 0), high = min(Int(centre + support + 0.5), input)
            var row = [Double](repeating: 0, count: input)
            for i in low..<high {
                let t = (Double(i) - centre + 0.5) / filterScale
                if t > -0.5 && t <= 0.5 { row[i] = 1 }
            }
            let total = row.reduce(0, +)
            return row.map { $0 / total }
        }
    }

    // MARK: jpeg_compression

    /// Quality factors; the 8x8 DCT block is a fixed pixel size, so these are applied as they are.
    static let jpegQuality: [Int] = [25, 18, 15, 10, 7]

    static func jpeg(_ image: [UInt8], severity: Int) -> [UInt8] {
        let side = Geometry.side
        let encoded = JPEGCodec.encode(image, width: side, height: side, quality: jpegQuality[severity])
        return JPEGCodec.decode(encoded).pixels
    }
}

/// The 2x3 affine map through three point pairs (cv2.getAffineTransform).
struct AffineMap {
    var a, b, c, d, e, f: Double // x' = a x + b y + c, y' = d x + e y + f

    init(a: Double, b: Double, c: Double, d: Double, e: Double, f: Double) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    init(from p: [(Double, Double)], to q: [(Double, Double)]) {
        // Cramer's rule on [x y 1] * (a b c)^T = x' and likewise for y'.
        func det(_ m: [[Double]]) -> Double {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        }
        let m = p.map { [$0.0, $0.1, 1.0] }
        let dm = det(m)
        func solve(_ rhs: [Double]) -> [Double] {
            (0..<3).map { col in det(m.enumerated().map { i, row in row.enumerated().map { $0.offset == col ? rhs[i] : $0.element } }) / dm }
        }
        let xs = solve(q.map(\.0)), ys = solve(q.map(\.1))
        self.init(a: xs[0], b: xs[1], c: xs[2], d: ys[0], e: ys[1], f: ys[2])
    }

    func inverted() -> AffineMap {
        let det = a * e - b * d
        let ia = e / det, ib = -b / det, id = -d / det, ie = a / det
        return AffineMap(a: ia, b: ib, c: -(ia * c + ib * f), d: id, e: ie, f: -(id * c + ie * f))
    }

    func apply(_ x: Double, _ y: Double) -> (Double, Double) { (a * x + b * y + c, d * x + e * y + f) }
}
