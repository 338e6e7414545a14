// InstanceNormalization and LayerNormalization for training: both normalise rows with the row's own mean and
// biased variance (no running statistics), so they share one backward; they differ in how the affine
// parameters index the row (per channel vs. per element of the normalised shape).
import EdgeRuntime

final class RowNormStep: TrainingStep {
    enum Affine {
        /// InstanceNormalization: rows are (n, c) planes; gamma[c] for the whole row.
        case perChannel(channels: Int)
        /// LayerNormalization: gamma[j] for element j of each row.
        case perElement
    }
    let affine: Affine
    let epsilon: Float
    let rows: Int, rowLength: Int
    private let mean: FloatBuffer, invStd: FloatBuffer

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], affine: Affine, rows: Int, rowLength: Int) {
        self.affine = affine
        epsilon = node.float("epsilon", default: 1e-5)
        self.rows = rows
        self.rowLength = rowLength
        mean = FloatBuffer(count: rows)
        invStd = FloatBuffer(count: rows)
        super.init(node: node, inputs: inputs, outputs: outputs)
    }

    static func instanceNorm(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0), scale = try ctx.input(1), bias = try ctx.input(2)
        try ctx.requireSingleOutput()
        if x.shape.count < 3 { throw ctx.shapeError("input must have a spatial axis") }
        let c = x.shape[1]
        if scale.count != c || bias.count != c { throw ctx.shapeError("scale and B must have \(c) values") }
        let cells = shapeCount(Array(x.shape[2...]))
        let y = try ctx.output(shape: x.shape)
        return RowNormStep(node: ctx.node, inputs: [x, scale, bias], outputs: [y], affine: .perChannel(channels: c),
                           rows: x.shape[0] * c, rowLength: cells)
    }

    static func layerNorm(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0), scale = try ctx.input(1)
        let bias: ValueSlot? = ctx.has(2) ? try ctx.input(2) : nil
        try ctx.requireSingleOutput()
        let axis = try ctx.axis(ctx.node.int("axis", default: -1), rank: x.shape.count)
        let inner = shapeCount(Array(x.shape[axis...]))
        // A broadcast (smaller) scale would need its gradient summed over the broadcast axes; PyTorch
        // exports the full normalised shape, which is what is supported.
        if scale.count != inner || (bias.map { $0.count != inner } ?? false) {
            throw ctx.unsupported("scale and bias must have the normalised shape's \(inner) values")
        }
        let y = try ctx.output(shape: x.shape)
        return RowNormStep(node: ctx.node, inputs: [x, scale, bias], outputs: [y], affine: .perElement,
                           rows: shapeCount(Array(x.shape[..<axis])), rowLength: inner)
    }

    override var differentiableInputs: [Int] { [0, 1, 2] }

    @inline(__always) private func parameterIndex(row: Int, j: Int) -> Int {
        switch affine {
        case .perChannel(let c): return row % c
        case .perElement: return j
        }
    }

    override func forward() {
        let x = inputs[0]!.data, y = outputs[0].data
        let gamma = inputs[1]!.data, beta = inputs[2]?.data
        let n = rowLength
        for row in 0..<rows {
            let xr = x + row * n, yr = y + row * n
            var sum = 0.0
            for j in 0..<n { sum += Double(xr[j]) }
            let mu = sum / Double(n)
            var sq = 0.0
            for j in 0..<n {
                let t = Double(xr[j]) - mu
                sq += t * t
            }
            let inv = Float(1 / (sq / Double(n) + Double(epsilon)).squareRoot())
            let m = Float(mu)
            mean[row] = m
            invStd[row] = inv
            for j in 0..<n {
                let p = parameterIndex(row: row, j: j)
                yr[j] = (xr[j] - m) * inv * gamma[p] + (beta?[p] ?? 0)
            }
        }
    }

    override func backward() {
        guard let dy = outputs[0].grad else { return }
        let x = inputs[0]!.data, gamma = inputs[1]!.data
        let dx = inputs[0]!.grad, addX = accumulate[0]
        let dgamma = inputs[1]!.grad, dbeta = inputs[2]?.grad
        let n = rowLength
        // u = (x - mean) invStd with biased row statistics; g = dy * gamma:
        //   dx = invStd (g - mean(g) - u mean(g u)),  dgamma += dy u,  dbeta += dy.
        for row in 0..<rows {
            let xr = x + row * n, dyr = dy + row * n
            let m = mean[row], inv = invStd[row]
            var sg = 0.0, sgu = 0.0
            for j in 0..<n {
                let p = parameterIndex(row: row, j: j)
                let u = (xr[j] - m) * inv
                let g = dyr[j] * gamma[p]
                sg += Double(g)
                sgu += Double(g * u)
                dgamma?[p] += dyr[j] * u
                dbeta?[p] += dyr[j]
            }
            guard let dx else { continue }
            let meanG = Float(sg / Double(n)), meanGU = Float(sgu / Double(n))
            let dxr = dx + row * n
            for j in 0..<n {
                let p = parameterIndex(row: row, j: j)
                let u = (xr[j] - m) * inv
                store(dxr, j, inv * (dyr[j] * gamma[p] - meanG - u * meanGU), addX)
            }
        }
    }
}
