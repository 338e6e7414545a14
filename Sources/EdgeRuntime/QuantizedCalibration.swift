// Activation ranges for int8 quantization, observed by running the fp32 model in this runtime: min-max, or a
// percentile of a histogram (a second pass over the same samples) that ignores rare outliers.

public final class ActivationCalibrator {
    public let session: Session
    public let names: [String]
    private let firstObserved: Int
    private var mins: [Float]
    private var maxs: [Float]
    private static let bins = 2048
    private var histograms: [[UInt64]] = []

    /// Prepares `model` for `batch` with every name in `names` exposed as an extra output.
    public init(model: Model, names: [String], batch: Int) throws(ModelLoadError) {
        session = try model.prepare(batch: batch, options: PrepareOptions(fuseQuantized: false, observe: names))
        self.names = names
        firstObserved = session.outputNames.count - names.count
        mins = [Float](repeating: .infinity, count: names.count)
        maxs = [Float](repeating: -.infinity, count: names.count)
    }

    /// After `session.run()`: widens each tensor's range by the first `rows` rows of the batch.
    public func recordRanges(rows: Int) {
        for k in 0..<names.count {
            let view = session.outputView(firstObserved + k)
            let n = view.count / Swift.max(view.shape.first ?? 1, 1) * rows
            let p = view.f32
            var lo = mins[k], hi = maxs[k]
            for i in 0..<n {
                lo = Swift.min(lo, p[i])
                hi = Swift.max(hi, p[i])
            }
            mins[k] = lo
            maxs[k] = hi
        }
    }

    /// After `session.run()`, in a second pass: counts values into histograms over the min-max ranges.
    public func recordHistograms(rows: Int) {
        if histograms.isEmpty { histograms = [[UInt64]](repeating: [UInt64](repeating: 0, count: Self.bins), count: names.count) }
        for k in 0..<names.count {
            let view = session.outputView(firstObserved + k)
            let n = view.count / Swift.max(view.shape.first ?? 1, 1) * rows
            let p = view.f32
            let lo = mins[k], width = (maxs[k] - mins[k]) / Float(Self.bins)
            if !(width > 0) { continue }
            for i in 0..<n {
                let b = Int((p[i] - lo) / width)
                histograms[k][Swift.max(0, Swift.min(Self.bins - 1, b))] += 1
            }
        }
    }

    /// Min-max ranges, or with `percentile` (e.g. 99.99) the values below which that share of each tensor's
    /// observations fall, at both ends (needs the histogram pass).
    public func ranges(percentile: Float? = nil) -> [String: ActivationRange] {
        var out: [String: ActivationRange] = [:]
        for k in 0..<names.count {
            var r = ActivationRange(min: mins[k], max: maxs[k])
            if let percentile, k < histograms.count {
                let h = histograms[k]
                var total: UInt64 = 0
                for c in h { total += c }
                let tail = UInt64(Double(total) * Double(100 - percentile) / 100)
                let width = (maxs[k] - mins[k]) / Float(Self.bins)
                var acc: UInt64 = 0, hiBin = Self.bins - 1
                while hiBin > 0 && acc + h[hiBin] <= tail { acc += h[hiBin]; hiBin -= 1 }
                acc = 0
                var loBin = 0
                while loBin < hiBin && acc + h[loBin] <= tail { acc += h[loBin]; loBin += 1 }
                r = ActivationRange(min: mins[k] + Float(loBin) * width, max: mins[k] + Float(hiBin + 1) * width)
            }
            out[names[k]] = r
        }
        return out
    }
}
