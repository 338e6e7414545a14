// The fused fp32 Conv node FloatFusion makes: the C conv's epilogue applies the folded BatchNormalization
// (per-channel scale and shift, recomputed each run from the live parameters) and the Relu/Clip bounds.
// Constant weights (never patched: only normalization parameters are) are packed once (ConvWeights).
import CEdgeShim

/// Per-channel scale a = gamma / sqrt(var + eps) and shift b = beta - mean * a + a * conv bias, the
/// unfused BatchNormalization's own formula. Recomputed every run (O(channels), next to nothing against
/// the conv), so a patch that rewrote the parameters in place is never missed.
final class BatchNormFold {
    let channels: Int
    let epsilon: Float
    let scale: UnsafeMutablePointer<Float>
    let shift: UnsafeMutablePointer<Float>
    private let gamma, beta, mean, variance: UnsafeMutablePointer<Float>
    private let bias: UnsafeMutablePointer<Float>?

    init(channels: Int, epsilon: Float, norm: [UnsafeMutablePointer<Float>], bias: UnsafeMutablePointer<Float>?) {
        self.channels = channels
        self.epsilon = epsilon
        scale = .allocate(capacity: channels)
        shift = .allocate(capacity: channels)
        gamma = norm[0]
        beta = norm[1]
        mean = norm[2]
        variance = norm[3]
        self.bias = bias
    }

    deinit {
        scale.deallocate()
        shift.deallocate()
    }

    func refresh() {
        for c in 0..<channels {
            let a = gamma[c] / cedge_sqrtf(variance[c] + epsilon)
            var b = beta[c] - mean[c] * a
            if let bias { b += a * bias[c] }
            scale[c] = a
            shift[c] = b
        }
    }
}

/// A fused conv's plan-time half, shared with FusedConvPair: its geometry with the activation, its packed
/// weights, and where its epilogue comes from at run time.
struct FusedConvPlan {
    typealias Slot = FloatFusion.Slot
    let desc: cedge_conv_desc
    let outShape: [Int]
    let weights: ConvWeights
    let hasNorm, hasBias: Bool
    let epsilon: Float

    init(_ ctx: OpContext) throws(ModelLoadError) {
        let (plain, outShape) = try Conv.forward(ctx)
        var desc = plain
        let node = ctx.node
        switch node.int("activation", default: 0) {
        case QuantizedFusion.Activation.relu:
            desc.clamp_min = 0
        case QuantizedFusion.Activation.clip:
            desc.clamp_min = node.float("clip_min", default: -Float.infinity)
            desc.clamp_max = node.float("clip_max", default: Float.infinity)
        default: break
        }
        self.desc = desc
        self.outShape = outShape
        hasNorm = try QuantizedConv.foldedNorm(ctx, gammaSlot: Slot.gamma, channels: outShape[1])
        epsilon = node.float("bn_epsilon", default: 1e-5)
        hasBias = ctx.has(Slot.bias)
        weights = try ConvWeights(ctx, slot: Slot.w, desc: desc)
    }

    /// The folded norm over the kernel's inputs (refresh before each run), or nil: then the bias is the shift.
    func fold(_ i: [TensorView?]) -> BatchNormFold? {
        if !hasNorm { return nil }
        return BatchNormFold(channels: outShape[1], epsilon: epsilon, norm: (0..<4).map { i[Slot.gamma + $0]!.f32 },
                             bias: hasBias ? i[Slot.bias]!.f32 : nil)
    }

    func bias(_ i: [TensorView?]) -> UnsafePointer<Float>? { hasBias ? UnsafePointer(i[Slot.bias]!.f32) : nil }
}

enum FusedConv {
    typealias Slot = FloatFusion.Slot

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let plan = try FusedConvPlan(ctx)
        if ctx.has(Slot.residual) { return try residualBuild(ctx, plan) }
        return OpBuild(.float32, plan.outShape) { i, o in
            let xp = i[Slot.x]!.f32, wp = i[Slot.w]!.data, yp = o[0].f32
            var d = plan.desc
            guard let fold = plan.fold(i) else {
                let bp = plan.bias(i)
                return { plan.weights.run(&d, xp, wp, nil, bp, yp) }
            }
            return {
                fold.refresh()
                plan.weights.run(&d, xp, wp, fold.scale, fold.shift, yp)
            }
        }
    }

    /// The conv with a residual Add [-> Relu] joined (FloatFusion): a residual of the conv output's shape goes
    /// to the kernel's epilogue; one that broadcasts (a per-channel term, say) is added in a pass after it, and
    /// one the conv output broadcasts into (the Add's output larger than the conv's) through a buffer of its own.
    static func residualBuild(_ ctx: OpContext, _ plan: FusedConvPlan) throws(ModelLoadError) -> OpBuild {
        let r = try ctx.input(Slot.residual)
        if r.type != .float32 { throw ctx.unsupported("a residual Add of a \(r.type.name) tensor to a float32 conv") }
        let relu = ctx.node.int(FloatFusion.residualReluAttribute, default: 0) == 1
        guard let out = broadcastShapes([plan.outShape, r.shape]) else {
            throw ctx.shapeError("the residual Add's shapes \(describeShape(plan.outShape)) and \(describeShape(r.shape)) do not broadcast")
        }
        let join = BroadcastPlan(operands: [plan.outShape, r.shape], out: out)
        let inKernel = r.shape == plan.outShape
        return OpBuild(.float32, out) { i, o in
            let xp = i[Slot.x]!.f32, wp = i[Slot.w]!.data, rp = i[Slot.residual]!.f32, yp = o[0].f32
            var d = plan.desc
            let fold = plan.fold(i)
            let scale = fold.map { UnsafePointer($0.scale) }, shift = fold.map { UnsafePointer($0.shift) } ?? plan.bias(i)
            if inKernel {
                var res = cedge_conv_residual(r: rp, relu: relu ? 1 : 0)
                return {
                    fold?.refresh()
                    plan.weights.run(&d, xp, wp, scale, shift, residual: &res, yp)
                }
            }
            // The conv's output in y itself when it is the Add's full shape, else in a buffer of its own.
            let own = out == plan.outShape ? nil : TensorBuffer(byteCount: shapeCount(plan.outShape) * 4)
            let cp = own.map { $0.pointer.assumingMemoryBound(to: Float.self) } ?? yp
            return {
                // The kernel owns the buffer: it must live as long as the kernel, not this build.
                withExtendedLifetime(own) {
                    fold?.refresh()
                    plan.weights.run(&d, xp, wp, scale, shift, cp)
                    if relu {
                        broadcastBinary(cp, rp, yp, join) { let v = $0 + $1; return v > 0 ? v : 0 }
                    } else {
                        broadcastBinary(cp, rp, yp, join) { $0 + $1 }
                    }
                }
            }
        }
    }
}
