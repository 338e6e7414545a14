// BatchNormalization in the three forms the simulation needs (see BNMode): inference (running statistics),
// batch statistics (Tent) and CEMA's batch-renormalized training form, with gradients for gamma, beta and,
// in the training forms, through the batch mean and variance.
import EdgeRuntime
import Foundation

final class BatchNormStep: TrainingStep {
    let mode: BNMode
    let epsilon: Float
    let momentum: Float
    let channels: Int, images: Int, cells: Int
    /// batchRenormalization: whether the running statistics hold values to use (false = take the next
    /// batch's statistics, as the reference does after discarding the source statistics).
    var statisticsInitialized: Bool
    /// batchRenormalization: whether forward() moves the running statistics toward the batch's.
    var updatesStatistics = true
    /// batchRenormalization, gradient checks only: reuse the last forward's r and d instead of recomputing
    /// them, so the forward is the very function whose gradient the backward computes (autograd treats r
    /// and d as constants; a finite difference would otherwise see them move).
    var freezesRenormalization = false
    // Per channel, from the last forward: batch mean, 1/sqrt(batch var + eps), the renormalization
    // constants r and d (r = 1, d = 0 outside batchRenormalization).
    private let mean: FloatBuffer, invStd: FloatBuffer, r: FloatBuffer, d: FloatBuffer

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], options: TrainingOptions) {
        mode = options.bnMode
        epsilon = node.float("epsilon", default: 1e-5)
        momentum = options.statisticsMomentum
        let shape = inputs[0]!.shape
        channels = shape[1]
        images = shape[0]
        cells = shapeCount(Array(shape[2...]))
        statisticsInitialized = options.runningStatistics == .fromGraph
        mean = FloatBuffer(count: channels)
        invStd = FloatBuffer(count: channels)
        r = FloatBuffer(count: channels)
        d = FloatBuffer(count: channels)
        super.init(node: node, inputs: inputs, outputs: outputs)
    }

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        if ctx.node.int("training_mode", default: 0) != 0 {
            throw ctx.unsupported("training_mode=1 outputs (the trainer chooses the form with BNMode)")
        }
        try ctx.requireSingleOutput()
        if x.shape.count < 2 { throw ctx.shapeError("input must have a channel axis") }
        let c = x.shape[1]
        var params: [ValueSlot] = []
        for k in 1..<5 {
            let p = try ctx.input(k)
            if p.count != c { throw ctx.shapeError("parameter #\(k) has \(p.count) values for \(c) channels") }
            params.append(p)
        }
        // The running statistics are written in place, so they must be the graph's own initializers.
        for k in 3..<5 where params[k - 1].constant == nil { throw .valueNeededAtCompile(node: ctx.label, input: params[k - 1].name) }
        let perStatistic = x.shape[0] * shapeCount(Array(x.shape[2...]))
        if ctx.options.bnMode != .inference && perStatistic < 2 {
            throw .batchTooSmall(node: ctx.label, valuesPerStatistic: perStatistic)
        }
        let y = try ctx.output(shape: x.shape)
        return BatchNormStep(node: ctx.node, inputs: [x] + params, outputs: [y], options: ctx.options)
    }

    override var differentiableInputs: [Int] { [0, 1, 2] }

    override func forward() {
        let x = inputs[0]!.data, y = outputs[0].data
        let gamma = inputs[1]!.data, beta = inputs[2]!.data
        let runMean = inputs[3]!.data, runVar = inputs[4]!.data
        let plane = channels * cells
        let m = images * cells
        for ch in 0..<channels {
            if mode == .inference {
                mean[ch] = runMean[ch]
                invStd[ch] = Float(1 / (Double(runVar[ch]) + Double(epsilon)).squareRoot())
                r[ch] = 1
                d[ch] = 0
                continue
            }
            // Two passes in Double: the variance of long rows stays exact in float32 terms.
            var sum = 0.0
            for n in 0..<images { sum += sumRow(x + n * plane + ch * cells, cells) }
            let mu = sum / Double(m)
            var sq = 0.0
            for n in 0..<images { sq += squaredDeviations(x + n * plane + ch * cells, cells, mu) }
            // Tent/PyTorch train-mode BN normalises with the biased variance; TBR uses torch.var_mean's
            // unbiased one (and stores it as the running variance).
            let variance = mode == .batchStatistics ? sq / Double(m) : sq / Double(m - 1)
            mean[ch] = Float(mu)
            invStd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
            if mode == .batchStatistics {
                r[ch] = 1
                d[ch] = 0
                continue
            }
            if freezesRenormalization { continue }
            if !statisticsInitialized {
                runMean[ch] = Float(mu)
                runVar[ch] = Float(variance)
            }
            let runStd = (Double(runVar[ch]) + Double(epsilon)).squareRoot()
            r[ch] = Float((variance + Double(epsilon)).squareRoot() / runStd)
            d[ch] = Float((mu - Double(runMean[ch])) / runStd)
            if updatesStatistics {
                runMean[ch] += momentum * (Float(mu) - runMean[ch])
                runVar[ch] += momentum * (Float(variance) - runVar[ch])
            }
        }
        if mode == .batchRenormalization { statisticsInitialized = true }
        // y = gamma * (((x - mu) * invStd) * r + d) + beta = x * a + b per channel.
        for ch in 0..<channels {
            let a = gamma[ch] * invStd[ch] * r[ch]
            let b = beta[ch] + gamma[ch] * (d[ch] - mean[ch] * invStd[ch] * r[ch])
            for n in 0..<images {
                let base = n * plane + ch * cells
                for j in 0..<cells { y[base + j] = x[base + j] * a + b }
            }
        }
    }

    override func backward() {
        guard let dy = outputs[0].grad else { return }
        let x = inputs[0]!.data
        let gamma = inputs[1]!.data
        let dx = inputs[0]!.grad, addX = accumulate[0]
        let plane = channels * cells
        let m = images * cells
        // With u = (x - mu_B) * invStd (mu_B, var_B functions of x; r, d constants):
        //   dbeta = sum dy, dgamma = sum dy * (u r + d),
        //   dx = gamma r invStd (dy - sum(dy)/M - u sum(dy u)/D), D = M - 1 (unbiased) or M (biased).
        // Inference form: dx = gamma invStd dy (statistics are constants).
        let divisor = Float(mode == .batchStatistics ? m : m - 1)
        for ch in 0..<channels {
            let mu = mean[ch], inv = invStd[ch]
            var sdy = 0.0, sdyu = 0.0
            for n in 0..<images {
                let base = n * plane + ch * cells
                let (a, b) = gradientSums(dy + base, x + base, cells, mu, inv)
                sdy += a
                sdyu += b
            }
            if let dgamma = inputs[1]!.grad { dgamma[ch] += Float(Double(r[ch]) * sdyu + Double(d[ch]) * sdy) }
            if let dbeta = inputs[2]!.grad { dbeta[ch] += Float(sdy) }
            guard let dx else { continue }
            let k = gamma[ch] * r[ch] * inv
            if mode == .inference {
                for n in 0..<images {
                    let base = n * plane + ch * cells
                    for j in 0..<cells { store(dx, base + j, k * dy[base + j], addX) }
                }
                continue
            }
            let meanDy = Float(sdy / Double(m)), proj = Float(sdyu) / divisor
            // dx = k (dy - meanDy - (x - mu) inv proj) = k dy + (x * c1 + c0), per channel constants.
            let c1 = -k * inv * proj, c0 = -k * meanDy + k * mu * inv * proj
            for n in 0..<images {
                let base = n * plane + ch * cells
                let dxr = dx + base, dyr = dy + base, xr = x + base
                if addX {
                    for j in 0..<cells { dxr[j] += k * dyr[j] + xr[j] * c1 + c0 }
                } else {
                    for j in 0..<cells { dxr[j] = k * dyr[j] + xr[j] * c1 + c0 }
                }
            }
        }
    }
}

// Row reductions in Double with four independent accumulators (the dependency chain of one accumulator,
// not the arithmetic, is what bounds a long reduction).

@inline(__always)
private func sumRow(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j + 4 <= n {
        s0 += Double(x[j]); s1 += Double(x[j + 1]); s2 += Double(x[j + 2]); s3 += Double(x[j + 3])
        j += 4
    }
    while j < n { s0 += Double(x[j]); j += 1 }
    return (s0 + s1) + (s2 + s3)
}

@inline(__always)
private func squaredDeviations(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ mu: Double) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j + 4 <= n {
        let a = Double(x[j]) - mu, b = Double(x[j + 1]) - mu, c = Double(x[j + 2]) - mu, d = Double(x[j + 3]) - mu
        s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
        j += 4
    }
    while j < n {
        let a = Double(x[j]) - mu
        s0 += a * a
        j += 1
    }
    return (s0 + s1) + (s2 + s3)
}

/// (sum dy, sum dy * (x - mu) * inv) over one row.
@inline(__always)
private func gradientSums(_ dy: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ n: Int,
                          _ mu: Float, _ inv: Float) -> (Double, Double) {
    var a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0
    var j = 0
    while j + 2 <= n {
        let g0 = dy[j], g1 = dy[j + 1]
        a0 += Double(g0); a1 += Double(g1)
        b0 += Double(g0 * (x[j] - mu) * inv); b1 += Double(g1 * (x[j + 1] - mu) * inv)
        j += 2
    }
    while j < n {
        a0 += Double(dy[j])
        b0 += Double(dy[j] * (x[j] - mu) * inv)
        j += 1
    }
    return (a0 + a1, b0 + b1)
}
