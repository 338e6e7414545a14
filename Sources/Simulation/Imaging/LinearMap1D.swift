// Sparse 1-D linear operators (resampling, blur, box averaging) applied separably to planes.

/// A sparse matrix from `inputCount` samples to `outputCount` samples, one contiguous run of weights per
/// output. Separable operations (upsample-then-blur, blur-then-downsample, zoom) are built as dense
/// products once per severity and applied along rows and then columns.
struct LinearMap1D {
    let inputCount: Int
    let outputCount: Int
    /// First input index of each output's run.
    let starts: [Int]
    /// Weights of each output's run, concatenated; run i spans offsets[i]..<offsets[i + 1].
    let weights: [Float]
    let offsets: [Int]

    /// Compresses a dense outputCount x inputCount matrix, keeping each row's nonzero span.
    init(dense: [[Double]], inputCount: Int) {
        self.inputCount = inputCount
        outputCount = dense.count
        var starts: [Int] = [], weights: [Float] = [], offsets = [0]
        for row in dense {
            let first = row.firstIndex { $0 != 0 } ?? 0
            let last = row.lastIndex { $0 != 0 } ?? -1
            starts.append(first)
            if last >= first { weights += row[first...last].map { Float($0) } }
            offsets.append(weights.count)
        }
        self.starts = starts
        self.weights = weights
        self.offsets = offsets
    }

    /// The operator's dense matrix (for composing operators).
    var dense: [[Double]] {
        (0..<outputCount).map { o in
            var row = [Double](repeating: 0, count: inputCount)
            for k in offsets[o]..<offsets[o + 1] { row[starts[o] + k - offsets[o]] = Double(weights[k]) }
            return row
        }
    }

    /// Applies `rows` along y and `columns` along x: out = rows * image * columns^T.
    static func apply(rows: LinearMap1D, columns: LinearMap1D, to plane: Plane) -> Plane {
        precondition(columns.inputCount == plane.width && rows.inputCount == plane.height)
        let w = columns.outputCount, inWidth = plane.width
        // Horizontal pass: every input row -> columns.outputCount samples.
        var mid = [Float](repeating: 0, count: plane.height * w)
        plane.pixels.withUnsafeBufferPointer { src in
            columns.weights.withUnsafeBufferPointer { weights in
                mid.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<w {
                        let first = columns.offsets[o], last = columns.offsets[o + 1], base = columns.starts[o] - first
                        for y in 0..<plane.height {
                            let row = y * inWidth + base
                            var sum: Float = 0
                            for k in first..<last { sum += weights[k] * src[row + k] }
                            dst[y * w + o] = sum
                        }
                    }
                }
            }
        }
        // Vertical pass: accumulate weighted input rows into each output row.
        var out = [Float](repeating: 0, count: rows.outputCount * w)
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<rows.outputCount {
                    let outBase = o * w
                    for k in rows.offsets[o]..<rows.offsets[o + 1] {
                        let weight = rows.weights[k]
                        let inBase = (rows.starts[o] + k - rows.offsets[o]) * w
                        for x in 0..<w { dst[outBase + x] += weight * src[inBase + x] }
                    }
                }
            }
        }
        return Plane(width: w, height: rows.outputCount, pixels: out)
    }
}

/// Dense building blocks, composed by matrix product.
enum DenseMap {
    static func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let inner = b.count, cols = b.first?.count ?? 0
        return a.map { row in
            var out = [Double](repeating: 0, count: cols)
            for k in 0..<inner where row[k] != 0 {
                for j in 0..<cols { out[j] += row[k] * b[k][j] }
            }
            return out
        }
    }

    /// Pixel replication by `factor` (a 28-pixel image as a 224-pixel one with square pixels).
    static func replicate(_ n: Int, factor: Int) -> [[Double]] {
        (0..<n * factor).map { o in (0..<n).map { $0 == o / factor ? 1 : 0 } }
    }

    /// Box average of `factor` consecutive samples (the inverse of `replicate`).
    static func boxAverage(_ n: Int, factor: Int) -> [[Double]] {
        (0..<n / factor).map { o in (0..<n).map { $0 / factor == o ? 1 / Double(factor) : 0 } }
    }

    /// Gaussian blur as scipy.ndimage.gaussian_filter1d: radius int(truncate * sigma + 0.5), border folded in.
    static func gaussian(_ n: Int, sigma: Double, truncate: Double, border: Border) -> [[Double]] {
        let kernel = Kernels.gaussian1D(sigma: sigma, truncate: truncate)
        let radius = kernel.count / 2
        return (0..<n).map { o in
            var row = [Double](repeating: 0, count: n)
            for t in -radius...radius { row[border.index(o + t, n)] += kernel[t + radius] }
            return row
        }
    }

    /// Linear interpolation at arbitrary source positions (clamped to the input range).
    static func interpolate(_ n: Int, at positions: [Double]) -> [[Double]] {
        positions.map { p in
            var row = [Double](repeating: 0, count: n)
            let q = min(max(p, 0), Double(n - 1))
            let i0 = min(Int(q.rounded(.down)), n - 1)
            let f = q - Double(i0)
            row[i0] += 1 - f
            if f > 0 { row[i0 + 1] += f }
            return row
        }
    }
}
