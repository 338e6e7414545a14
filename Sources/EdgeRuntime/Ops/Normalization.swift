// BatchNormalization (inference form), InstanceNormalization, LayerNormalization, GroupNormalization.
// Affine parameters are read at every run, never folded, so a patch to them takes effect immediately.
import CEdgeShim

enum Normalization {
    static func batchNorm(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        for k in 0..<5 { try ctx.requireFloat32(k) }
        if ctx.node.int("training_mode", default: 0) != 0 {
            throw ctx.unsupported("training_mode=1 (this runtime infers; the cloud trainer owns training)")
        }
        let x = try ctx.shape(0)
        if x.count < 2 { throw ctx.shapeError("input must have a channel axis") }
        let c = x[1]
        for k in 1..<5 where try shapeCount(ctx.shape(k)) != c {
            throw ctx.shapeError("parameter #\(k) has \(try shapeCount(ctx.shape(k))) values, \(c) channels need one each")
        }
        let eps = ctx.node.float("epsilon", default: 1e-5)
        let n = x[0], cells = shapeCount(Array(x[2...]))
        return OpBuild(.float32, x) { i, o in
            let xp = i[0]!.f32, scale = i[1]!.f32, bias = i[2]!.f32, mean = i[3]!.f32, variance = i[4]!.f32
            let yp = o[0].f32
            return {
                for ch in 0..<c {
                    let a = scale[ch] / cedge_sqrtf(variance[ch] + eps)
                    let b = bias[ch] - mean[ch] * a
                    for img in 0..<n {
                        let base = (img * c + ch) * cells
                        for j in 0..<cells { yp[base + j] = xp[base + j] * a + b }
                    }
                }
            }
        }
    }

    static func instanceNorm(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        for k in 0..<3 { try ctx.requireFloat32(k) }
        let x = try ctx.shape(0)
        if x.count < 3 { throw ctx.shapeError("input must have a spatial axis") }
        let c = x[1]
        let scaleCount = shapeCount(try ctx.shape(1)), biasCount = shapeCount(try ctx.shape(2))
        if scaleCount != c || biasCount != c {
            throw ctx.shapeError("scale and B must have \(c) values")
        }
        let eps = ctx.node.float("epsilon", default: 1e-5)
        let planes = x[0] * c, cells = shapeCount(Array(x[2...]))
        return OpBuild(.float32, x) { i, o in
            let xp = i[0]!.f32, scale = i[1]!.f32, bias = i[2]!.f32, yp = o[0].f32
            return {
                for p in 0..<planes {
                    let ch = p % c
                    normalizeRow(xp + p * cells, yp + p * cells, cells, eps) { j, v in v * scale[ch] + bias[ch] }
                }
            }
        }
    }

    /// LayerNormalization: normalise over axes [axis, rank); scale and bias broadcast over those axes.
    static func layerNorm(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        try ctx.requireFloat32(1)
        let x = try ctx.shape(0)
        let axis = try ctx.axis(ctx.node.int("axis", default: -1), rank: x.count)
        let eps = ctx.node.float("epsilon", default: 1e-5)
        let inner = shapeCount(Array(x[axis...])), outer = shapeCount(Array(x[..<axis]))
        let normShape = Array(x[axis...])
        let scalePlan = try affinePlan(ctx, 1, normShape)
        let biasPlan: BroadcastPlan? = ctx.has(2) ? try affinePlan(ctx, 2, normShape) : nil
        let statShape = Array(x[..<axis]) + [Int](repeating: 1, count: x.count - axis)
        // Scale/bias are expanded to the normalised shape once per run (they may be patched between runs).
        let expanded = Tensor(type: .float32, shape: [inner * 2])
        return OpBuild(outputs: [(.float32, x), (.float32, statShape), (.float32, statShape)]) { i, o in
            let xp = i[0]!.f32, yp = o[0].f32
            let sp = i[1]!.f32, bp = biasPlan != nil ? i[2]!.f32 : nil
            let meanOut = o.count > 1 ? o[1].f32 : nil, invOut = o.count > 2 ? o[2].f32 : nil
            return {
                // The closure owns `expanded`: its storage must live as long as the kernel.
                let gamma = expanded.pointer(as: Float.self), beta = gamma + inner
                broadcastCopy(sp, gamma, elementSize: 4, scalePlan)
                if let biasPlan, let bp { broadcastCopy(bp, beta, elementSize: 4, biasPlan) } else {
                    for j in 0..<inner { beta[j] = 0 }
                }
                for r in 0..<outer {
                    let (mean, inv) = normalizeRow(xp + r * inner, yp + r * inner, inner, eps) { j, v in v * gamma[j] + beta[j] }
                    meanOut?[r] = mean
                    invOut?[r] = inv
                }
            }
        }
    }

    /// GroupNormalization: scale/bias per group (opset 18) or per channel (opset 21).
    static func groupNorm(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        for k in 0..<3 { try ctx.requireFloat32(k) }
        let x = try ctx.shape(0)
        guard let groups = ctx.node.int("num_groups"), groups > 0, x.count >= 2, x[1] % groups == 0 else {
            throw ctx.shapeError("num_groups must divide the channel count")
        }
        let c = x[1], eps = ctx.node.float("epsilon", default: 1e-5)
        let perChannel = ctx.opset >= 21
        let expected = perChannel ? c : groups
        let scaleCount = shapeCount(try ctx.shape(1)), biasCount = shapeCount(try ctx.shape(2))
        if scaleCount != expected || biasCount != expected {
            throw ctx.shapeError("scale and bias must have \(expected) values")
        }
        let cells = shapeCount(Array(x[2...])), perGroup = c / groups * cells
        return OpBuild(.float32, x) { i, o in
            let xp = i[0]!.f32, scale = i[1]!.f32, bias = i[2]!.f32, yp = o[0].f32
            return {
                for g in 0..<(x[0] * groups) {
                    let group = g % groups
                    normalizeRow(xp + g * perGroup, yp + g * perGroup, perGroup, eps) { j, v in
                        let p = perChannel ? group * (c / groups) + j / cells : group
                        return v * scale[p] + bias[p]
                    }
                }
            }
        }
    }

    static func affinePlan(_ ctx: OpContext, _ k: Int, _ normShape: [Int]) throws(ModelLoadError) -> BroadcastPlan {
        let s = try ctx.shape(k)
        guard let b = broadcastShapes([s, normShape]), b == normShape else {
            throw ctx.shapeError("parameter #\(k) \(describeShape(s)) does not broadcast to \(describeShape(normShape))")
        }
        return BroadcastPlan(operands: [s], out: normShape)
    }
}

/// y[j] = affine(j, (x[j] - mean) / sqrt(var + eps)) over one row; returns (mean, 1/sqrt(var + eps)).
/// Two passes in Double keep the variance exact enough for long rows.
@discardableResult @inline(__always)
func normalizeRow(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ eps: Float,
                  _ affine: (Int, Float) -> Float) -> (Float, Float) {
    var sum = 0.0
    for j in 0..<n { sum += Double(x[j]) }
    let mean = sum / Double(max(n, 1))
    var sq = 0.0
    for j in 0..<n {
        let d = Double(x[j]) - mean
        sq += d * d
    }
    let inv = Float(1 / cedge_sqrt(sq / Double(max(n, 1)) + Double(eps)))
    let m = Float(mean)
    for j in 0..<n { y[j] = affine(j, (x[j] - m) * inv) }
    return (m, inv)
}
