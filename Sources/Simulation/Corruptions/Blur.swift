// defocus_blur, glass_blur, motion_blur, zoom_blur with ImageNet-C's constants scaled from 224 to 28 pixels.
import Foundation

enum Blur {
    // MARK: defocus_blur

    /// (disk radius, antialiasing sigma) in 224-pixel units.
    static let defocusParameters: [(radius: Int, aliasBlur: Double)] = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)]

    /// ImageNet-C's antialiased disk at 224 pixels, each tap moved to 1/8 of its offset: a 3-10 pixel
    /// radius becomes 0.375-1.25 pixels. Sub-pixel taps spread with `Kernels.tent`, so even severity 1 blurs.
    static let defocusKernels: [Kernel2D] = defocusParameters.map { p in
        let taps = referenceDisk(radius: p.radius, aliasBlur: p.aliasBlur).map {
            (dx: Double($0.x) * Geometry.scale, dy: Double($0.y) * Geometry.scale, weight: $0.weight)
        }
        return Kernel2D(taps: taps)
    }

    static func defocus(_ x: Plane, severity: Int) -> Plane {
        defocusKernels[severity].correlate(x, border: .reflect101) // cv2.filter2D's default border
    }

    /// `disk()` of make_imagenet_c.py: a binary disk on an odd grid (at least 17x17), normalised, then
    /// cv2.GaussianBlur (3x3 up to radius 8, else 5x5; REFLECT_101 border) to antialias its rim.
    static func referenceDisk(radius: Int, aliasBlur: Double) -> [(x: Int, y: Int, weight: Double)] {
        let half = max(radius, 8), n = 2 * half + 1
        var disk = [Double](repeating: 0, count: n * n)
        for y in -half...half { for x in -half...half where x * x + y * y <= radius * radius { disk[(y + half) * n + x + half] = 1 } }
        let area = disk.reduce(0, +)
        disk = disk.map { $0 / area }
        let g = Kernels.openCVGaussian(size: radius <= 8 ? 3 : 5, sigma: aliasBlur)
        let gr = g.count / 2
        func blur(_ a: [Double], horizontal: Bool) -> [Double] {
            var out = [Double](repeating: 0, count: n * n)
            for y in 0..<n { for x in 0..<n {
                var sum = 0.0
                for t in -gr...gr {
                    let sx = horizontal ? Border.reflect101.index(x + t, n) : x
                    let sy = horizontal ? y : Border.reflect101.index(y + t, n)
                    sum += g[t + gr] * a[sy * n + sx]
                }
                out[y * n + x] = sum
            } }
            return out
        }
        let smooth = blur(blur(disk, horizontal: true), horizontal: false)
        return (0..<n * n).compactMap { i in
            smooth[i] > 0 ? (x: i % n - half, y: i / n - half, weight: smooth[i]) : nil
        }
    }

    // MARK: glass_blur

    /// (gaussian sigma, maximum swap distance, iterations) in 224-pixel units.
    static let glassParameters: [(sigma: Double, delta: Int, iterations: Int)] =
        [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)]

    /// Per severity: 28 -> 224 replicate + gaussian, and 224 -> 28 gaussian + box average. Swaps of 1-4
    /// pixels cannot be scaled below one pixel, so glass blur runs on the 224 grid with the original constants.
    static let glassMaps: [(up: LinearMap1D, down: LinearMap1D)] = glassParameters.map { p in
        let n = Geometry.side, f = Geometry.supersampling, big = n * f
        // skimage.filters.gaussian defaults: truncate 4, mode 'nearest'.
        let g = DenseMap.gaussian(big, sigma: p.sigma, truncate: 4, border: .clamp)
        let up = DenseMap.product(g, DenseMap.replicate(n, factor: f))
        let down = DenseMap.product(DenseMap.boxAverage(big, factor: f), g)
        return (LinearMap1D(dense: up, inputCount: n), LinearMap1D(dense: down, inputCount: big))
    }

    static func glass(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = glassParameters[severity], maps = glassMaps[severity]
        var big = LinearMap1D.apply(rows: maps.up, columns: maps.up, to: x)
        let n = big.width, d = p.delta
        big.pixels.withUnsafeMutableBufferPointer { px in
            // Local shuffle as ImageNet-C: bottom-right to top-left, offsets in [-d, d).
            for _ in 0..<p.iterations {
                for h in stride(from: n - d, to: d, by: -1) {
                    for w in stride(from: n - d, to: d, by: -1) {
                        let (ux, uy) = rng.integerPair(below: 2 * d)
                        let dx = ux - d, dy = uy - d
                        px.swapAt(h * n + w, (h + dy) * n + (w + dx))
                    }
                }
            }
        }
        return LinearMap1D.apply(rows: maps.down, columns: maps.down, to: big).map { min(max($0, 0), 1) }
    }

    // MARK: motion_blur

    /// ImageMagick MotionBlurImage (radius, sigma) in 224-pixel units; the angle is uniform in [-45, 45).
    static let motionParameters: [(radius: Int, sigma: Double)] = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)]

    /// ImageMagick's one-sided motion kernel: 2r+1 taps with weight exp(-i^2 / 2 sigma^2) at integer
    /// offsets round(i cos a), round(i sin a) (224-pixel units).
    static func motionTaps(radius: Int, sigma: Double, angleDegrees: Double) -> [(x: Int, y: Int, weight: Double)] {
        let angle = angleDegrees * .pi / 180
        return (0...(2 * radius)).map { i in
            let t = Double(i)
            return (x: Int((t * cos(angle) - 0.5).rounded(.up)), y: Int((t * sin(angle) - 0.5).rounded(.up)),
                    weight: exp(-t * t / (2 * sigma * sigma)))
        }
    }

    static func motion(_ x: Plane, severity: Int, rng: inout SeededGenerator) -> Plane {
        let p = motionParameters[severity]
        let taps = motionTaps(radius: p.radius, sigma: p.sigma, angleDegrees: rng.uniform(-45, 45)).map {
            (dx: Double($0.x) * Geometry.scale, dy: Double($0.y) * Geometry.scale, weight: $0.weight)
        }
        return Kernel2D(taps: taps).correlate(x, border: .clamp) // ImageMagick's edge virtual pixels
    }

    // MARK: zoom_blur

    /// Zoom factors 1, 1 + step, ... exactly as many as numpy's `arange(1, stop, step)` yields
    /// (float rounding gives severity 1 twelve factors, up to 1.11). Factors are ratios: no scaling.
    static let zoomFactors: [[Double]] = [(0.01, 12), (0.01, 16), (0.02, 11), (0.02, 13), (0.03, 11)].map { step, count in
        (0..<count).map { 1 + Double($0) * step }
    }

    /// One interpolation operator per factor: output pixel p samples the centre crop at c + (p - c) / z
    /// (scipy's clipped_zoom up to its sub-pixel crop rounding, which at 28 pixels would erase zooms < 1.04).
    static let zoomMaps: [[LinearMap1D]] = zoomFactors.map { factors in
        let n = Geometry.side, c = Double(n - 1) / 2
        return factors.map { z in
            LinearMap1D(dense: DenseMap.interpolate(n, at: (0..<n).map { c + (Double($0) - c) / z }), inputCount: n)
        }
    }

    static func zoom(_ x: Plane, severity: Int) -> Plane {
        var sum = x
        for map in zoomMaps[severity] {
            let zoomed = LinearMap1D.apply(rows: map, columns: map, to: x)
            for i in sum.pixels.indices { sum.pixels[i] += zoomed.pixels[i] }
        }
        let n = Float(zoomMaps[severity].count + 1)
        return sum.map { min(max($0 / n, 0), 1) }
    }
}
