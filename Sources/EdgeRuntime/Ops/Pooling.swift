// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (1-3 spatial dims) over the C kernels.
import CEdgeShim

enum Pooling {
    static func pool(_ ctx: OpContext, max isMax: Bool) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        let x = try ctx.shape(0)
        let k = x.count - 2
        if k < 1 || k > 3 { throw ctx.unsupported("\(k) spatial dimensions (1 to 3 are supported)") }
        guard let kernel = ctx.node.ints("kernel_shape") else {
            throw .invalidAttribute(node: ctx.label, attribute: "kernel_shape", reason: "is required")
        }
        if ctx.node.int("storage_order", default: 0) != 0 && ctx.node.outputs.count > 1 {
            throw ctx.unsupported("column-major indices (storage_order=1)")
        }
        let g = try Windows.forward(ctx, inSize: Array(x[2...]), kernel: kernel,
                                    ceilMode: ctx.node.int("ceil_mode", default: 0) == 1)
        if !isMax && g.dilations.contains(where: { $0 != 1 }) && ctx.opset < 19 {
            throw ctx.shapeError("AveragePool has dilations only since opset 19")
        }
        var desc = cedge_pool_desc()
        desc.spatial = Int32(k)
        desc.kind = Int32(isMax ? CEDGE_POOL_MAX.rawValue : CEDGE_POOL_AVG.rawValue)
        desc.batch = Int32(x[0])
        desc.channels = Int32(x[1])
        setTriple(&desc.in_size, Array(x[2...]))
        setTriple(&desc.out_size, g.outSize)
        setTriple(&desc.kernel, g.kernel)
        setTriple(&desc.stride, g.strides)
        setTriple(&desc.dilation, g.dilations)
        setTriple(&desc.pad_begin, g.padBegin, fill: 0)
        setTriple(&desc.pad_end, g.padEnd, fill: 0)
        desc.count_include_pad = Int32(ctx.node.int("count_include_pad", default: 0))
        let outShape = [x[0], x[1]] + g.outSize
        var outputs: [(type: ElementType, shape: [Int])] = [(.float32, outShape)]
        if isMax { outputs.append((.int64, outShape)) }
        let wantIndices = isMax && ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
        return OpBuild(outputs: outputs) { i, o in
            let xp = i[0]!.f32, yp = o[0].f32
            let ip: UnsafeMutablePointer<Int64>? = wantIndices ? o[1].i64 : nil
            var d = desc
            return { cedge_pool_f32(&d, xp, yp, ip) }
        }
    }

    static func global(_ ctx: OpContext, max isMax: Bool) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        let x = try ctx.shape(0)
        if x.count < 3 { throw ctx.shapeError("input must have at least one spatial dimension") }
        let cells = shapeCount(Array(x[2...]))
        let out = [x[0], x[1]] + [Int](repeating: 1, count: x.count - 2)
        return OpBuild(.float32, out) { i, o in
            let xp = i[0]!.f32, yp = o[0].f32
            let n = Int32(x[0]), c = Int32(x[1])
            if !isMax { return { cedge_global_avg_pool_f32(n, c, Int32(cells), xp, yp) } }
            let planes = x[0] * x[1]
            return {
                for p in 0..<planes {
                    var m = -Float.infinity
                    let row = xp + p * cells
                    for j in 0..<cells { m = Swift.max(m, row[j]) }
                    yp[p] = m
                }
            }
        }
    }
}
