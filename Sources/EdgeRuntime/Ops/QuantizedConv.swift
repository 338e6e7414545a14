// The fused int8 Conv/Gemm node QuantizedFusion makes: packs the int8 weights once, and keeps the per-channel
// requantization multipliers and biases in step with the live BatchNormalization parameters.
import CEdgeShim

/// Per-channel multipliers and biases, recomputed whenever the normalization parameters they fold in change
/// (a patch writes those initializers in place; the weights are never read again after packing).
final class RequantizationState {
    let channels: Int
    let mult: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>
    /// The parameters the current multipliers were computed from: gamma, beta, mean, variance.
    private let seen: UnsafeMutablePointer<Float>
    private var valid = false
    let combinedScale: [Float]      // x_scale * w_scale[c] (* Gemm alpha)
    let baseBias: [Float]           // conv bias (* Gemm beta), or zeros
    let outScale: Float             // y_scale, or 1 for a float output
    let epsilon: Float
    let norm: [UnsafeMutablePointer<Float>]   // live gamma, beta, mean, variance (empty: no BatchNormalization)

    init(combinedScale: [Float], baseBias: [Float], outScale: Float, epsilon: Float, norm: [UnsafeMutablePointer<Float>]) {
        channels = combinedScale.count
        mult = .allocate(capacity: channels)
        bias = .allocate(capacity: channels)
        seen = .allocate(capacity: 4 * channels)
        self.combinedScale = combinedScale
        self.baseBias = baseBias
        self.outScale = outScale
        self.epsilon = epsilon
        self.norm = norm
    }

    deinit {
        mult.deallocate()
        bias.deallocate()
        seen.deallocate()
    }

    /// O(channels) per run: cheaper than any notification path, and a patch can never be missed.
    func refresh() {
        if valid && !norm.isEmpty {
            var same = true
            for k in 0..<4 where same {
                for c in 0..<channels where norm[k][c] != seen[k * channels + c] { same = false; break }
            }
            if same { return }
        } else if valid { return }
        for c in 0..<channels {
            var s = combinedScale[c], b = baseBias[c]
            if !norm.isEmpty {
                let g = norm[0][c] / (norm[3][c] + epsilon).squareRoot()
                b = (b - norm[2][c]) * g + norm[1][c]
                s *= g
                for k in 0..<4 { seen[k * channels + c] = norm[k][c] }
            }
            mult[c] = s / outScale
            bias[c] = b / outScale
        }
        valid = true
    }
}

enum QuantizedConv {
    typealias Slot = QuantizedFusion.Slot

    static func positiveScales(_ ctx: OpContext, _ slot: Int) throws(ModelLoadError) -> [Float] {
        let values = try ctx.constant(slot).floats()
        for v in values where !(v > 0 && v.isFinite) {
            throw .invalidTensor(tensor: ctx.node.inputs[slot], reason: "quantization scale \(v) is not a positive finite number")
        }
        return values
    }

    /// Whether a BatchNormalization was folded into the node, after checking its four parameters (float32,
    /// one per output channel). Shared with the fp32 FusedConv.
    static func foldedNorm(_ ctx: OpContext, gammaSlot: Int, channels: Int) throws(ModelLoadError) -> Bool {
        if !ctx.has(gammaSlot) { return false }
        for k in 0..<4 {
            let info = try ctx.input(gammaSlot + k)
            if info.type != .float32 || shapeCount(info.shape) != channels {
                throw ctx.shapeError("BatchNormalization parameter #\(k + 1) must be float32 with \(channels) values")
            }
        }
        return true
    }

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let node = ctx.node
        let isGemm = node.opType == "QGemm"
        let xType = try ctx.requireType(Slot.x, [.uint8, .int8])
        if try ctx.input(Slot.xZero).type != xType {
            throw ctx.shapeError("activation zero point is \(try ctx.input(Slot.xZero).type.name) but the activation is \(xType.name)")
        }
        let x = try ctx.shape(Slot.x), w = try ctx.shape(Slot.w)
        let weights = try ctx.constant(Slot.w)
        let outChannels = w[0]
        let xScale = try positiveScales(ctx, Slot.xScale)[0]
        let xZero = Int32(try ctx.constant(Slot.xZero).int64s()[0])
        let wScales = try positiveScales(ctx, Slot.wScale)

        var desc = cedge_qconv_desc()
        var outShape: [Int]
        if isGemm {
            if x.count != 2 || w.count != 2 || x[1] != w[1] {
                throw ctx.shapeError("Gemm of \(describeShape(x)) by transposed \(describeShape(w)) does not fit")
            }
            desc.conv.spatial = 1
            desc.conv.batch = Int32(x[0])
            desc.conv.in_channels = Int32(x[1])
            desc.conv.out_channels = Int32(outChannels)
            desc.conv.groups = 1
            setTriple(&desc.conv.in_size, [1])
            setTriple(&desc.conv.out_size, [1])
            setTriple(&desc.conv.kernel, [1])
            setTriple(&desc.conv.stride, [1])
            setTriple(&desc.conv.dilation, [1])
            setTriple(&desc.conv.pad_begin, [0], fill: 0)
            outShape = [x[0], outChannels]
        } else {
            let k = x.count - 2
            if k < 1 || k > 3 || w.count != x.count { throw ctx.unsupported("int8 Conv of \(describeShape(x)) by \(describeShape(w))") }
            let group = node.int("group", default: 1)
            if group < 1 || x[1] % group != 0 || outChannels % group != 0 || w[1] * group != x[1] {
                throw ctx.shapeError("weight \(describeShape(w)) does not fit input \(describeShape(x)) with group \(group)")
            }
            let kernel = node.ints("kernel_shape") ?? Array(w[2...])
            let g = try Windows.forward(ctx, inSize: Array(x[2...]), kernel: kernel)
            desc.conv.spatial = Int32(k)
            desc.conv.batch = Int32(x[0])
            desc.conv.in_channels = Int32(x[1])
            desc.conv.out_channels = Int32(outChannels)
            desc.conv.groups = Int32(group)
            setTriple(&desc.conv.in_size, Array(x[2...]))
            setTriple(&desc.conv.out_size, g.outSize)
            setTriple(&desc.conv.kernel, g.kernel)
            setTriple(&desc.conv.stride, g.strides)
            setTriple(&desc.conv.dilation, g.dilations)
            setTriple(&desc.conv.pad_begin, g.padBegin, fill: 0)
            outShape = [x[0], outChannels] + g.outSize
        }
        desc.in_kind = xType == .uint8 ? Int32(CEDGE_Q_UINT8.rawValue) : Int32(CEDGE_Q_INT8.rawValue)
        desc.in_zero = xZero

        // Output: quantized when a QuantizeLinear was fused, float otherwise.
        var outType: ElementType = .float32
        var outScale: Float = 1
        var lo = -Float.infinity, hi = Float.infinity
        if ctx.has(Slot.yScale) {
            outScale = try positiveScales(ctx, Slot.yScale)[0]
            outType = try ctx.requireType(Slot.yZero, [.uint8, .int8])
            let yZero = Int32(try ctx.constant(Slot.yZero).int64s()[0])
            desc.out_zero = yZero
            desc.out_kind = outType == .uint8 ? Int32(CEDGE_Q_UINT8.rawValue) : Int32(CEDGE_Q_INT8.rawValue)
            lo = Float((outType == .uint8 ? 0 : -128) - yZero)
            hi = Float((outType == .uint8 ? 255 : 127) - yZero)
        } else {
            desc.out_kind = Int32(CEDGE_Q_FLOAT32.rawValue)
        }
        switch node.int("activation", default: 0) {
        case QuantizedFusion.Activation.relu: lo = max(lo, 0)
        case QuantizedFusion.Activation.clip:
            lo = max(lo, node.float("clip_min", default: -Float.infinity) / outScale)
            hi = min(hi, node.float("clip_max", default: Float.infinity) / outScale)
        default: break
        }
        desc.out_lo = lo
        desc.out_hi = hi

        let alpha: Float = isGemm ? node.float("alpha", default: 1) : 1
        let beta: Float = isGemm ? node.float("beta", default: 1) : 1
        var combined = [Float](repeating: 0, count: outChannels)
        for c in 0..<outChannels { combined[c] = xScale * (wScales.count == 1 ? wScales[0] : wScales[c]) * alpha }
        var baseBias = [Float](repeating: 0, count: outChannels)
        if ctx.has(Slot.bias) {
            let b = try ctx.constant(Slot.bias)
            if b.type != .float32 || (b.count != outChannels && b.count != 1) {
                throw ctx.shapeError("bias must be float32 with \(outChannels) values")
            }
            let values = b.floats()
            for c in 0..<outChannels { baseBias[c] = beta * (values.count == 1 ? values[0] : values[c]) }
        }
        let hasNorm = try foldedNorm(ctx, gammaSlot: Slot.gamma, channels: outChannels)
        let epsilon = node.float("bn_epsilon", default: 1e-5)

        // Packed once here; the ONNX weight tensor itself is only read.
        let packed = TensorBuffer(byteCount: max(cedge_qconv_packed_bytes(&desc), 1))
        let rowsum = TensorBuffer(byteCount: max(cedge_qconv_rowsum_count(&desc) * 4, 4))
        cedge_qconv_pack(&desc, weights.pointer(as: Int8.self), packed.pointer.assumingMemoryBound(to: Int8.self),
                         rowsum.pointer.assumingMemoryBound(to: Int32.self))
        let fixedDesc = desc
        return OpBuild(outType, outShape) { i, o in
            let norm: [UnsafeMutablePointer<Float>] = hasNorm ? (0..<4).map { i[Slot.gamma + $0]!.f32 } : []
            let state = RequantizationState(combinedScale: combined, baseBias: baseBias, outScale: outScale,
                                            epsilon: epsilon, norm: norm)
            let xp = UnsafeRawPointer(i[Slot.x]!.data), yp = o[0].data
            var d = fixedDesc
            // The kernel closure holds the packed buffers: the session keeps kernels, not plans.
            return {
                state.refresh()
                cedge_qconv_run(&d, xp, packed.pointer.assumingMemoryBound(to: Int8.self),
                                rowsum.pointer.assumingMemoryBound(to: Int32.self), state.mult, state.bias, yp)
            }
        }
    }
}
