// speckle_noise, gaussian_blur, spatter, saturate: ImageNet-C's four held-out corruptions ("extra" in
// make_imagenet_c.py), used only to choose hyperparameters, never in the benchmark table.
import Foundation

enum Validation {
    // MARK: speckle_noise (per pixel, size-independent)

    /// Standard deviation of the multiplicative noise: x -> x + x N(0, c).
    static let speckleSigma: [Double] = [0.15, 0.2, 0.35, 0.45, 0.6]

    static func speckle(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let c = speckleSigma[severity]
        return x.map { min(max($0 + $0 * Float(c * rng.normal()), 0), 1) }
    }

    // MARK: gaussian_blur

    /// skimage gaussian sigma in 224-pixel units (truncate 4, mode nearest).
    static let gaussianBlurSigma: [Double] = [1, 2, 3, 4, 6]

    /// 1-6 pixels at 224 are 0.125-0.75 at 28, where a sampled gaussian of the lower severities would round
    /// to the identity; as glass blur does, the blur runs on the 224 grid (replicate, blur, box-average),
    /// which is the 224-pixel operation scaled exactly, folded into one 28 -> 28 map.
    static let gaussianBlurMaps: [LinearMap1D] = gaussianBlurSigma.map { sigma in
        let n = Geometry.side, f = Geometry.supersampling, big = n * f
        let blurred = DenseMap.product(DenseMap.gaussian(big, sigma: sigma, truncate: 4, border: .clamp), DenseMap.replicate(n, factor: f))
        return LinearMap1D(dense: DenseMap.product(DenseMap.boxAverage(big, factor: f), blurred), inputCount: n)
    }

    static func gaussianBlur(_ x: Plane, severity: Int) -> Plane {
        let map = gaussianBlurMaps[severity]
        return LinearMap1D.apply(rows: map, columns: map, to: x)
    }

    // MARK: spatter

    /// (liquid mean, liquid std, liquid sigma, threshold, intensity or mud sigma, mud?), 224-pixel units.
    static let spatterParameters: [(mean: Double, std: Double, sigma: Double, threshold: Float, strength: Double, mud: Bool)] = [
        (0.65, 0.3, 4, 0.69, 0.6, false), (0.65, 0.3, 3, 0.68, 0.6, false), (0.65, 0.3, 2, 0.68, 0.5, false),
        (0.65, 0.3, 1, 0.65, 1.5, true), (0.67, 0.4, 1, 0.65, 1.5, true),
    ]
    /// Gray levels of ImageNet-C's colours (BT.601 luma): pale turquoise water, brown mud.
    static let waterGray: Float = (0.299 * 175 + 0.587 * 238 + 0.114 * 238) / 255
    static let mudGray: Float = (0.299 * 63 + 0.587 * 42 + 0.114 * 20) / 255

    /// Smoothing and 224 -> 28 averaging per severity: the liquid layer is per-pixel noise at 224 pixels with
    /// 1-4 pixel smoothing, below one pixel at 28, so it is built on the 224 grid (as snow is) and box-averaged.
    static let spatterMaps: [(liquid: LinearMap1D, mud: LinearMap1D, down: LinearMap1D)] = spatterParameters.map { p in
        let big = Geometry.side * Geometry.supersampling
        let liquid = LinearMap1D(dense: DenseMap.gaussian(big, sigma: p.sigma, truncate: 4, border: .clamp), inputCount: big)
        let mud = LinearMap1D(dense: DenseMap.gaussian(big, sigma: p.strength, truncate: 4, border: .clamp), inputCount: big)
        let down = LinearMap1D(dense: DenseMap.boxAverage(big, factor: Geometry.supersampling), inputCount: big)
        return (liquid, mud, down)
    }

    /// Mud (severities 4-5) follows ImageNet-C: the thresholded liquid mask, smoothed, cut below 0.8, replaces
    /// the image with mud colour. Water (1-3) is simplified: ImageNet-C shades drops with Canny edges and a
    /// distance transform; here the thresholded liquid layer itself, scaled to peak at the intensity constant,
    /// adds water colour. Both are averaged down to 28 pixels before blending.
    static func spatter(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = spatterParameters[severity], maps = spatterMaps[severity]
        let big = Geometry.side * Geometry.supersampling
        var noise = Plane(width: big, height: big)
        for i in noise.pixels.indices { noise.pixels[i] = Float(rng.normal(mean: p.mean, standardDeviation: p.std)) }
        let liquid = LinearMap1D.apply(rows: maps.liquid, columns: maps.liquid, to: noise)
        var out = x
        if p.mud {
            let mask = liquid.map { $0 > p.threshold ? 1 : 0 }
            let smooth = LinearMap1D.apply(rows: maps.mud, columns: maps.mud, to: mask).map { $0 < 0.8 ? 0 : $0 }
            let m = LinearMap1D.apply(rows: maps.down, columns: maps.down, to: smooth)
            for i in out.pixels.indices { out.pixels[i] = min(max(x.pixels[i] * (1 - m.pixels[i]) + mudGray * m.pixels[i], 0), 1) }
        } else {
            let layer = liquid.map { $0 < p.threshold ? 0 : $0 }
            let peak = max(layer.maximum, 1e-6)
            let m = LinearMap1D.apply(rows: maps.down, columns: maps.down, to: layer.map { $0 / peak * Float(p.strength) })
            for i in out.pixels.indices { out.pixels[i] = min(max(x.pixels[i] + m.pixels[i] * waterGray, 0), 1) }
        }
        return out
    }

    // MARK: saturate

    /// ImageNet-C scales HSV saturation: s -> s a + b. A gray image has no saturation, so the same (a, b)
    /// act on its only channel, intensity: darkening at severities 1-2, brightening and clipping at 3-5.
    static let saturateParameters: [(scale: Float, shift: Float)] = [(0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)]

    static func saturate(_ x: Plane, severity: Int) -> Plane {
        let p = saturateParameters[severity]
        return x.map { min(max($0 * p.scale + p.shift, 0), 1) }
    }
}
