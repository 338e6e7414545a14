// Conv and ConvTranspose (1-3 spatial dims, groups, dilations, pads, auto_pad), computed by the C kernels.
import CEdgeShim

enum Conv {
    static func conv(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let (desc, outShape) = try forward(ctx)
        let hasBias = ctx.has(2)
        return OpBuild(.float32, outShape) { i, o in
            let xp = i[0]!.f32, wp = i[1]!.f32, bp = hasBias ? UnsafePointer(i[2]!.f32) : nil, yp = o[0].f32
            var d = desc
            return { cedge_conv_f32(&d, xp, wp, bp, yp) }
        }
    }

    /// Checks a Conv's inputs 0-2 (x, w, optional bias) and resolves its geometry; no activation (clamp to
    /// +-inf). Shared with the fused Conv, whose first three inputs are the same.
    static func forward(_ ctx: OpContext) throws(ModelLoadError) -> (cedge_conv_desc, [Int]) {
        try ctx.requireFloat32(0)
        try ctx.requireFloat32(1)
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
