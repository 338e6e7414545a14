// MaxPool, AveragePool and GlobalAveragePool for training. Forwards run the C kernels; MaxPool's backward
// scatters dY to the argmax the kernel reports, AveragePool's spreads dY / (cells counted) over its window.
import CEdgeShim
import EdgeRuntime

final class PoolStep: TrainingStep {
    let isMax: Bool
    private var desc = cedge_pool_desc()
    private let geometry: WindowGeometry     // padded to 3 spatial dims
    private let countIncludePad: Bool
    private let planes: Int
    /// MaxPool: flat input index of each output's maximum (ONNX MaxPool's Indices convention).
    private let indices: UnsafeMutablePointer<Int64>?

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], isMax: Bool, geometry: WindowGeometry,
         countIncludePad: Bool, planes: Int) {
        self.isMax = isMax
        self.geometry = geometry.padded3
        self.countIncludePad = countIncludePad
        self.planes = planes
        indices = isMax ? .allocate(capacity: max(outputs[0].count, 1)) : nil
        super.init(node: node, inputs: inputs, outputs: outputs)
        desc.spatial = Int32(geometry.inSize.count)
        desc.kind = Int32(isMax ? CEDGE_POOL_MAX.rawValue : CEDGE_POOL_AVG.rawValue)
        let shape = inputs[0]!.shape
        desc.batch = Int32(shape[0])
        desc.channels = Int32(shape[1])
        setTriple(&desc.in_size, geometry.inSize)
        setTriple(&desc.out_size, geometry.outSize)
        setTriple(&desc.kernel, geometry.kernel)
        setTriple(&desc.stride, geometry.strides)
        setTriple(&desc.dilation, geometry.dilations)
        setTriple(&desc.pad_begin, geometry.padBegin, fill: 0)
        setTriple(&desc.pad_end, geometry.padEnd, fill: 0)
        desc.count_include_pad = countIncludePad ? 1 : 0
    }

    deinit { indices?.deallocate() }

    static func build(_ ctx: StepContext, max isMax: Bool) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        try ctx.requireSingleOutput()
        let k = x.shape.count - 2
        if k < 1 || k > 3 { throw ctx.unsupported("\(k) spatial dimensions (1 to 3 are supported)") }
        guard let kernel = ctx.node.ints("kernel_shape") else {
            throw .invalidAttribute(node: ctx.label, attribute: "kernel_shape", reason: "is required")
        }
        let g = try WindowGeometry.resolve(ctx, inSize: Array(x.shape[2...]), kernel: kernel,
                                           ceilMode: ctx.node.int("ceil_mode", default: 0) == 1)
        let y = try ctx.output(shape: [x.shape[0], x.shape[1]] + g.outSize)
        return PoolStep(node: ctx.node, inputs: [x], outputs: [y], isMax: isMax, geometry: g,
                        countIncludePad: ctx.node.int("count_include_pad", default: 0) != 0,
                        planes: x.shape[0] * x.shape[1])
    }

    override func forward() {
        cedge_pool_f32(&desc, inputs[0]!.data, outputs[0].data, indices)
    }

    override func backward() {
        let x = inputs[0]!
        guard let dx = x.grad, let dy = outputs[0].grad else { return }
        // Windows overlap, so contributions are summed into a zeroed (or already written) dX.
        if !accumulate[0] { dx.initialize(repeating: 0, count: x.count) }
        if let indices {
            for o in 0..<outputs[0].count { dx[Int(indices[o])] += dy[o] }
            return
        }
        let g = geometry
        let inPlane = g.inSize[0] * g.inSize[1] * g.inSize[2]
        let outPlane = g.outSize[0] * g.outSize[1] * g.outSize[2]
        for p in 0..<planes {
            let dxp = dx + p * inPlane, dyp = dy + p * outPlane
            var o = 0
            for od in 0..<g.outSize[0] {
                let sd = od * g.strides[0] - g.padBegin[0]
                let nd = cellsCounted(0, sd)
                for oh in 0..<g.outSize[1] {
                    let sh = oh * g.strides[1] - g.padBegin[1]
                    let nh = cellsCounted(1, sh)
                    for ow in 0..<g.outSize[2] {
                        let sw = ow * g.strides[2] - g.padBegin[2]
                        let n = nd * nh * cellsCounted(2, sw)
                        defer { o += 1 }
                        if n == 0 { continue }
                        let share = dyp[o] / Float(n)
                        for kd in 0..<g.kernel[0] {
                            let id = sd + kd * g.dilations[0]
                            if id < 0 || id >= g.inSize[0] { continue }
                            for kh in 0..<g.kernel[1] {
                                let ih = sh + kh * g.dilations[1]
                                if ih < 0 || ih >= g.inSize[1] { continue }
                                for kw in 0..<g.kernel[2] {
                                    let iw = sw + kw * g.dilations[2]
                                    if iw < 0 || iw >= g.inSize[2] { continue }
                                    dxp[(id * g.inSize[1] + ih) * g.inSize[2] + iw] += share
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Cells AVG divides by along axis i for a window starting at `start` (the kernel's rule: the padded
    /// extent with count_include_pad, else the input; never the part of a ceil_mode window past both).
    private func cellsCounted(_ i: Int, _ start: Int) -> Int {
        let g = geometry
        let lo = countIncludePad ? -g.padBegin[i] : 0
        let hi = countIncludePad ? g.inSize[i] + g.padEnd[i] : g.inSize[i]
        var n = 0
        for k in 0..<g.kernel[i] {
            let p = start + k * g.dilations[i]
            if p >= lo && p < hi { n += 1 }
        }
        return n
    }
}

final class GlobalAveragePoolStep: TrainingStep {
    let planes: Int, cells: Int

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], planes: Int, cells: Int) {
        self.planes = planes
        self.cells = cells
        super.init(node: node, inputs: inputs, outputs: outputs)
    }

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        if x.shape.count < 3 { throw ctx.shapeError("input must have at least one spatial dimension") }
        let y = try ctx.output(shape: [x.shape[0], x.shape[1]] + [Int](repeating: 1, count: x.shape.count - 2))
        return GlobalAveragePoolStep(node: ctx.node, inputs: [x], outputs: [y], planes: x.shape[0] * x.shape[1],
                                     cells: shapeCount(Array(x.shape[2...])))
    }

    override func forward() {
        cedge_global_avg_pool_f32(Int32(planes), 1, Int32(cells), inputs[0]!.data, outputs[0].data)
    }

    override func backward() {
        guard let dx = inputs[0]!.grad, let dy = outputs[0].grad else { return }
        let add = accumulate[0], inv = 1 / Float(cells)
        for p in 0..<planes {
            let share = dy[p] * inv
            let row = p * cells
            for j in 0..<cells { store(dx, row + j, share, add) }
        }
    }
}
