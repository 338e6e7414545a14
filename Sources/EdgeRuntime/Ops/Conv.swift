// Conv and ConvTranspose (1-3 spatial dims, groups, dilations, pads, auto_pad), computed by the C kernels.
import CEdgeShim

enum Conv {
    static func conv(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let (desc, outShape) = try forward(ctx)
        let hasBias = ctx.has(2)
        let weights = try ConvWeights(ctx, slot: 1, desc: desc)
        return OpBuild(.float32, outShape) { i, o in
            let xp = i[0]!.f32, wp = i[1]!.data, bp = hasBias ? UnsafePointer(i[2]!.f32) : nil, yp = o[0].f32
            var d = desc
            return { weights.run(&d, xp, wp, nil, bp, yp) }
        }
    }

    /// Checks a Conv's inputs 0-2 (x, w, optional bias) and resolves its geometry; no activation (clamp to
    /// +-inf). Shared with the fused Conv, whose first three inputs are the same. The weight may be binary16
    /// (fp16 weights, see HalfPrecisionWeights) with fp32 data.
    static func forward(_ ctx: OpContext) throws(ModelLoadError) -> (cedge_conv_desc, [Int]) {
        try ctx.requireFloat32(0)
        _ = try ctx.requireType(1, [.float32, .float16])
        let x = try ctx.shape(0), w = try ctx.shape(1)
        let k = x.count - 2
        if k < 1 || k > 3 { throw ctx.unsupported("\(k) spatial dimensions (1 to 3 are supported)") }
        if w.count != x.count { throw ctx.shapeError("weight rank \(w.count) does not match input rank \(x.count)") }
        let group = ctx.node.int("group", default: 1)
        if group < 1 || x[1] % group != 0 || w[0] % group != 0 {
            throw ctx.shapeError("group \(group) does not divide the channels (\(x[1]) in, \(w[0]) out)")
        }
        if w[1] * group != x[1] {
            throw ctx.shapeError("weight expects \(w[1] * group) input channels, input has \(x[1])")
        }
        let kernel = ctx.node.ints("kernel_shape") ?? Array(w[2...])
        if kernel != Array(w[2...]) { throw ctx.shapeError("kernel_shape \(describeShape(kernel)) does not match the weight \(describeShape(w))") }
        if ctx.has(2) {
            try ctx.requireFloat32(2)
            if try ctx.shape(2) != [w[0]] { throw ctx.shapeError("bias must have shape [\(w[0])]") }
        }
        let g = try Windows.forward(ctx, inSize: Array(x[2...]), kernel: kernel)
        var desc = cedge_conv_desc()
        desc.spatial = Int32(k)
        desc.batch = Int32(x[0])
        desc.in_channels = Int32(x[1])
        desc.out_channels = Int32(w[0])
        desc.groups = Int32(group)
        setTriple(&desc.in_size, Array(x[2...]))
        setTriple(&desc.out_size, g.outSize)
        setTriple(&desc.kernel, g.kernel)
        setTriple(&desc.stride, g.strides)
        setTriple(&desc.dilation, g.dilations)
        setTriple(&desc.pad_begin, g.padBegin, fill: 0)
        desc.clamp_min = -Float.infinity
        desc.clamp_max = Float.infinity
        return (desc, [x[0], w[0]] + g.outSize)
    }

    static func convTranspose(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        try ctx.requireFloat32(1)
        let x = try ctx.shape(0), w = try ctx.shape(1)
        let k = x.count - 2
        if k < 1 || k > 3 { throw ctx.unsupported("\(k) spatial dimensions (1 to 3 are supported)") }
        let node = ctx.node
        let group = node.int("group", default: 1)
        if w.count != x.count || w[0] != x[1] || group < 1 || x[1] % group != 0 {
            throw ctx.shapeError("weight \(describeShape(w)) does not fit input \(describeShape(x)) with group \(group)")
        }
        let outChannels = w[1] * group
        let kernel = node.ints("kernel_shape") ?? Array(w[2...])
        let strides = node.ints("strides") ?? [Int](repeating: 1, count: k)
        let dilations = node.ints("dilations") ?? [Int](repeating: 1, count: k)
        let outputPadding = node.ints("output_padding") ?? [Int](repeating: 0, count: k)
        var pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * k)
        if strides.count != k || dilations.count != k || outputPadding.count != k || pads.count != 2 * k || kernel.count != k {
            throw ctx.shapeError("strides/dilations/output_padding/pads do not match \(k) spatial dimensions")
        }
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        var outSize = [Int](repeating: 0, count: k)
        let requested = node.ints("output_shape").map { $0.count == k + 2 ? Array($0[2...]) : $0 }
        for i in 0..<k {
            let span = (kernel[i] - 1) * dilations[i] + 1
            let full = strides[i] * (x[i + 2] - 1) + outputPadding[i] + span
            var target: Int? = requested?[i]
            if target == nil && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") { target = x[i + 2] * strides[i] }
            if let target {
                // Python-style floor division: a negative total (output larger than the full result)
                // extends the end with zeros, as the ONNX reference does.
                let total = full - target
                let half = total >= 0 ? total / 2 : -((-total + 1) / 2)
                if autoPad == "SAME_UPPER" {
                    pads[i] = half
                    pads[i + k] = total - half
                } else {
                    pads[i] = total - half
                    pads[i + k] = half
                }
                outSize[i] = target
            } else {
                outSize[i] = full - pads[i] - pads[i + k]
            }
            if outSize[i] < 1 { throw ctx.shapeError("output size \(outSize[i]) on axis \(i + 2)") }
        }
        var desc = cedge_conv_desc()
        desc.spatial = Int32(k)
        desc.batch = Int32(x[0])
        desc.in_channels = Int32(x[1])
        desc.out_channels = Int32(outChannels)
        desc.groups = Int32(group)
        setTriple(&desc.in_size, Array(x[2...]))
        setTriple(&desc.out_size, outSize)
        setTriple(&desc.kernel, kernel)
        setTriple(&desc.stride, strides)
        setTriple(&desc.dilation, dilations)
        setTriple(&desc.pad_begin, Array(pads[0..<k]), fill: 0)
        desc.clamp_min = -Float.infinity
        desc.clamp_max = Float.infinity
        let hasBias = ctx.has(2)
        return OpBuild(.float32, [x[0], outChannels] + outSize) { i, o in
            let xp = i[0]!.f32, wp = i[1]!.f32, bp = hasBias ? UnsafePointer(i[2]!.f32) : nil, yp = o[0].f32
            var d = desc
            return { cedge_conv_transpose_f32(&d, xp, wp, bp, yp) }
        }
    }
}

/// A Conv's weights as its kernel reads them, fp32 or binary16, packed once here when they are constant (they
/// never change: patches touch normalization parameters only). The kernel closures hold the packed copy: the
/// session keeps kernels, not plans.
struct ConvWeights {
    let half: Bool
    let packed: TensorBuffer?

    init(_ ctx: OpContext, slot: Int, desc: cedge_conv_desc) throws(ModelLoadError) {
        let w = try ctx.input(slot)
        half = w.type == .float16
        var d = desc
        var packing: TensorBuffer? = nil
        if let weights = w.constant {
            let bytes = half ? cedge_conv_f16w_packed_bytes(&d) : cedge_conv_f32_packed_bytes(&d)
            if bytes > 0 {
                let buffer = TensorBuffer(byteCount: bytes)
                if half {
                    if cedge_conv_f16w_pack(&d, weights.pointer(as: UInt16.self), buffer.pointer) != 0 {
                        throw ctx.unsupported("out of memory packing the binary16 weights")
                    }
                } else {
                    cedge_conv_f32_pack(&d, weights.pointer(as: Float.self), buffer.pointer)
                }
                packing = buffer
            }
        }
        packed = packing
    }

    /// y = clamp(conv(x, w) * scale + shift) (scale nil: 1, shift nil: 0), with w as typed at plan time.
    func run(_ d: inout cedge_conv_desc, _ x: UnsafeMutablePointer<Float>, _ w: UnsafeMutableRawPointer,
             _ scale: UnsafePointer<Float>?, _ shift: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        if half {
            cedge_conv_f16w_affine_packed(&d, x, w.assumingMemoryBound(to: UInt16.self), packed?.pointer, scale, shift, y)
        } else {
            cedge_conv_f32_affine_packed(&d, x, w.assumingMemoryBound(to: Float.self), packed?.pointer, scale, shift, y)
        }
    }

    /// The same with a residual join in the epilogue (cedge_conv_residual).
    func run(_ d: inout cedge_conv_desc, _ x: UnsafeMutablePointer<Float>, _ w: UnsafeMutableRawPointer,
             _ scale: UnsafePointer<Float>?, _ shift: UnsafePointer<Float>?, residual: inout cedge_conv_residual,
             _ y: UnsafeMutablePointer<Float>) {
        if half {
            cedge_conv_f16w_affine_packed_res(&d, x, w.assumingMemoryBound(to: UInt16.self), packed?.pointer, scale,
                                              shift, &residual, y)
        } else {
            cedge_conv_f32_affine_packed_res(&d, x, w.assumingMemoryBound(to: Float.self), packed?.pointer, scale, shift,
                                             &residual, y)
        }
    }
}
