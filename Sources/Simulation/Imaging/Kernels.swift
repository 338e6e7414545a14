// Convolution kernels and resampling primitives shared by the blur, weather and digital corruptions.
import Foundation

enum Kernels {
    /// Normalised 1-D Gaussian with scipy's radius rule, int(truncate * sigma + 0.5).
    static func gaussian1D(sigma: Double, truncate: Double) -> [Double] {
        let radius = Int(truncate * sigma + 0.5)
        guard sigma > 0, radius > 0 else { return [1] }
        let raw = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }

    /// OpenCV getGaussianKernel(ksize, sigma) for sigma > 0: sampled and normalised over ksize taps.
    static func openCVGaussian(size: Int, sigma: Double) -> [Double] {
        let half = Double(size - 1) / 2
        let raw = (0..<size).map { exp(-pow(Double($0) - half, 2) / (2 * sigma * sigma)) }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }

    /// Hat function of one low-resolution pixel: the weight with which a copy of the image shifted by
    /// `d` pixels lands on a pixel `k` away, when shifts happen on an 8x finer grid of square pixels and the
    /// result is box-averaged back (replicate -> shift -> box average == linear interpolation).
    @inline(__always) static func tent(_ t: Double) -> Double { max(0, 1 - abs(t)) }
}

/// A dense 2-D kernel with its origin at (radiusX, radiusY); `convolve` correlates (as cv2.filter2D).
struct Kernel2D {
    let radiusX: Int
    let radiusY: Int
    var weights: [Float] // (2 radiusY + 1) rows of (2 radiusX + 1)

    /// Splats weighted taps at fractional positions with tent weights (see `Kernels.tent`).
    init(taps: [(dx: Double, dy: Double, weight: Double)]) {
        let rx = Int((taps.map { abs($0.dx) }.max() ?? 0).rounded(.up))
        let ry = Int((taps.map { abs($0.dy) }.max() ?? 0).rounded(.up))
        radiusX = rx
        radiusY = ry
        let w = 2 * rx + 1
        var acc = [Double](repeating: 0, count: w * (2 * ry + 1))
        for tap in taps {
            let x0 = Int(tap.dx.rounded(.down)), y0 = Int(tap.dy.rounded(.down))
            for y in y0...(y0 + 1) where abs(y) <= ry {
                let wy = Kernels.tent(Double(y) - tap.dy)
                if wy == 0 { continue }
                for x in x0...(x0 + 1) where abs(x) <= rx {
                    let wx = Kernels.tent(Double(x) - tap.dx)
                    acc[(y + ry) * w + (x + rx)] += tap.weight * wx * wy
                }
            }
        }
        let total = acc.reduce(0, +)
        weights = acc.map { Float($0 / total) } // normalised: a blur keeps the mean intensity
    }

    /// out(x, y) = sum_k w(k) * in((x, y) + k), indices outside mapped by `border`.
    func correlate(_ plane: Plane, border: Border) -> Plane {
        var out = Plane(width: plane.width, height: plane.height)
        let kw = 2 * radiusX + 1
        let nonzero = weights.indices.filter { weights[$0] != 0 }.map { (dx: $0 % kw - radiusX, dy: $0 / kw - radiusY, w: weights[$0]) }
        plane.pixels.withUnsafeBufferPointer { src in
            for y in 0..<plane.height {
                for x in 0..<plane.width {
                    var sum: Float = 0
                    for tap in nonzero {
                        let sx = border.index(x + tap.dx, plane.width), sy = border.index(y + tap.dy, plane.height)
                        sum += tap.w * src[sy * plane.width + sx]
                    }
                    out.pixels[y * plane.width + x] = sum
                }
            }
        }
        return out
    }
}

extension Plane {
    /// Bilinear sample at (x, y) in pixel-centre coordinates, outside positions mapped by `border`.
    @inline(__always) func bilinear(_ x: Double, _ y: Double, border: Border) -> Float {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
        let xa = border.index(x0, width), xb = border.index(x0 + 1, width)
        let ya = border.index(y0, height), yb = border.index(y0 + 1, height)
        let top = pixels[ya * width + xa] * (1 - fx) + pixels[ya * width + xb] * fx
        let bottom = pixels[yb * width + xa] * (1 - fx) + pixels[yb * width + xb] * fx
        return top * (1 - fy) + bottom * fy
    }
}
