// Conv for training: forward by cedge_conv_f32; gradient with respect to the input only (weights are never
// trained). dX is a transposed convolution of dY with the same weights, computed as an ordinary stride-1
// convolution (the kernels' batch-parallel fast path) of dY spread out by the stride, with the kernel
// flipped and its channel axes swapped.
import CEdgeShim
import EdgeRuntime

final class ConvStep: TrainingStep {
    private var desc = cedge_conv_desc()
    /// Backward as a convolution: input = dY with (stride - 1) zeros between cells ("spread"), Cout channels;
    /// output = dX, Cin channels; stride 1, same dilation and groups; weight W'[g*icg + i, o, k] =
    /// W[g*ocg + o, i, K-1-k]; pad_begin = dilation*(K-1) - pad_begin (cells past dY's extent are zero pad).
    /// Derivation: dX[i] = sum over (o, k) with o*s - p + k*d = i of W[k] dY[o] = sum_k' W[K-1-k'] z[i - (d(K-1) - p) + k'd]
    /// with z the spread dY.
    private var backwardDesc = cedge_conv_desc()
    /// W' (flipped, channel axes swapped). The weights are constants of the graph: never trained or patched.
    private var backwardWeights: FloatBuffer?
    /// Spread dY (only when a stride exceeds 1); the cells between stay zero for the model's lifetime.
    private var spread: FloatBuffer?
    private var spreadSize: [Int] = [], outSize: [Int] = []
    /// Fallback when a leading pad exceeds dilation*(K-1) (the spread form would need a negative pad):
    /// ConvTranspose of dY with the original weights (its layout [in, out/g, k...] is W's as it stands).
    private var transposed: cedge_conv_desc?
    /// When another step already wrote dX, the backward (which overwrites) goes here first.
    private var scratch: FloatBuffer?

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0), w = try ctx.input(1)
        try ctx.requireSingleOutput()
        let xs = x.shape, ws = w.shape
        let k = xs.count - 2
        if k < 1 || k > 3 { throw ctx.unsupported("\(k) spatial dimensions (1 to 3 are supported)") }
        if ws.count != xs.count { throw ctx.shapeError("weight rank \(ws.count) does not match input rank \(xs.count)") }
        let group = ctx.node.int("group", default: 1)
        if group < 1 || xs[1] % group != 0 || ws[0] % group != 0 || ws[1] * group != xs[1] {
            throw ctx.shapeError("group \(group) does not fit \(xs[1]) input and \(ws[0]) output channels with weight \(describeShape(ws))")
        }
        let kernel = ctx.node.ints("kernel_shape") ?? Array(ws[2...])
        if kernel != Array(ws[2...]) { throw ctx.shapeError("kernel_shape does not match the weight") }
        var bias: ValueSlot? = nil
        if ctx.has(2) {
            bias = try ctx.input(2)
            if bias!.count != ws[0] { throw ctx.shapeError("bias must have \(ws[0]) values") }
        }
        let g = try WindowGeometry.resolve(ctx, inSize: Array(xs[2...]), kernel: kernel)
        let y = try ctx.output(shape: [xs[0], ws[0]] + g.outSize)
        let step = ConvStep(node: ctx.node, inputs: [x, w, bias], outputs: [y])
        step.desc = describe(batch: xs[0], inChannels: xs[1], outChannels: ws[0], groups: group,
                             inSize: g.inSize, outSize: g.outSize, g)
        step.outSize = g.outSize
        let spreadSize = (0..<k).map { (g.outSize[$0] - 1) * g.strides[$0] + 1 }
        let backPads = (0..<k).map { g.dilations[$0] * (g.kernel[$0] - 1) - g.padBegin[$0] }
        if backPads.allSatisfy({ $0 >= 0 }) {
            var spreadGeometry = g
            spreadGeometry.strides = [Int](repeating: 1, count: k)
            spreadGeometry.padBegin = backPads
            step.backwardDesc = describe(batch: xs[0], inChannels: ws[0], outChannels: xs[1], groups: group,
                                         inSize: spreadSize, outSize: g.inSize, spreadGeometry)
            step.backwardWeights = flippedTransposed(w, groups: group)
            if spreadSize != g.outSize {
                step.spreadSize = spreadSize
                step.spread = FloatBuffer(count: xs[0] * ws[0] * shapeCount(spreadSize))
            }
        } else {
            step.transposed = describe(batch: xs[0], inChannels: ws[0], outChannels: xs[1], groups: group,
                                       inSize: g.outSize, outSize: g.inSize, g)
        }
        return step
    }

    /// W [Cout, icg, K...] -> W' [Cin, ocg, K...] with W'[g*icg + i, o, k] = W[g*ocg + o, i, K-1-k].
    private static func flippedTransposed(_ w: ValueSlot, groups: Int) -> FloatBuffer {
        let cout = w.shape[0], icg = w.shape[1], kvol = shapeCount(Array(w.shape[2...]))
        let ocg = cout / groups
        let out = FloatBuffer(count: w.count)
        let src = w.data, dst = out.pointer
        for grp in 0..<groups {
            for o in 0..<ocg {
                for i in 0..<icg {
                    let from = ((grp * ocg + o) * icg + i) * kvol
                    let to = ((grp * icg + i) * ocg + o) * kvol
                    // Reversing the flat kernel index reverses every spatial axis at once.
                    for kk in 0..<kvol { dst[to + kk] = src[from + kvol - 1 - kk] }
                }
            }
        }
        return out
    }

    private static func describe(batch: Int, inChannels: Int, outChannels: Int, groups: Int, inSize: [Int],
                                 outSize: [Int], _ g: WindowGeometry) -> cedge_conv_desc {
        var d = cedge_conv_desc()
        d.spatial = Int32(inSize.count)
        d.batch = Int32(batch)
        d.in_channels = Int32(inChannels)
        d.out_channels = Int32(outChannels)
        d.groups = Int32(groups)
        setTriple(&d.in_size, inSize)
        setTriple(&d.out_size, outSize)
        setTriple(&d.kernel, g.kernel)
        setTriple(&d.stride, g.strides)
        setTriple(&d.dilation, g.dilations)
        setTriple(&d.pad_begin, g.padBegin, fill: 0)
        d.clamp_min = -Float.infinity
        d.clamp_max = Float.infinity
        return d
    }

    override func prepareBackward() {
        if let x = inputs[0], x.grad != nil, accumulate[0] { scratch = FloatBuffer(count: x.count) }
    }

    override func forward() {
        let bias: UnsafePointer<Float>? = inputs[2].map { UnsafePointer($0.data) }
        cedge_conv_f32(&desc, inputs[0]!.data, inputs[1]!.data, bias, outputs[0].data)
    }

    override func backward() {
        let x = inputs[0]!
        guard let dx = x.grad, let dy = outputs[0].grad else { return }
        let target = scratch?.pointer ?? dx
        if var t = transposed {
            cedge_conv_transpose_f32(&t, dy, inputs[1]!.data, nil, target)
        } else {
            var source = UnsafePointer(dy)
            if let spread {
                spreadOut(dy, into: spread.pointer)
                source = UnsafePointer(spread.pointer)
            }
            cedge_conv_f32(&backwardDesc, source, backwardWeights!.pointer, nil, target)
        }
        if let scratch {
            let s = scratch.pointer
            for i in 0..<x.count { dx[i] += s[i] }
        }
    }

    /// Copies dY's cells to every stride-th cell of the spread buffer (1 to 3 spatial axes).
    private func spreadOut(_ dy: UnsafeMutablePointer<Float>, into z: UnsafeMutablePointer<Float>) {
        let k = outSize.count
        let o = [Int](repeating: 1, count: 3 - k) + outSize, sz = [Int](repeating: 1, count: 3 - k) + spreadSize
        let st = [Int](repeating: 1, count: 3 - k) + (0..<k).map { Int(desc.strideValue($0)) }
        let planes = Int(desc.batch) * Int(desc.out_channels)
        let outPlane = o[0] * o[1] * o[2], zPlane = sz[0] * sz[1] * sz[2]
        for p in 0..<planes {
            let src = dy + p * outPlane, dst = z + p * zPlane
            var i = 0
            for a in 0..<o[0] {
                for b in 0..<o[1] {
                    let row = dst + ((a * st[0]) * sz[1] + b * st[1]) * sz[2]
                    for c in 0..<o[2] {
                        row[c * st[2]] = src[i]
                        i += 1
                    }
                }
            }
        }
    }
}

extension cedge_conv_desc {
    /// Stride of spatial axis i (the C struct stores a fixed-size tuple).
    func strideValue(_ i: Int) -> Int32 {
        switch i {
        case 0: return stride.0
        case 1: return stride.1
        default: return stride.2
        }
    }
}
