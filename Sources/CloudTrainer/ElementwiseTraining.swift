// Add, Sub and Mul with broadcasting for training. The backward of a broadcast operand sums dY over the
// axes it was broadcast along.
import EdgeRuntime

final class BinaryStep: TrainingStep {
    enum Operation { case add, sub, mul }
    let operation: Operation
    let map: BroadcastMap

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], operation: Operation, map: BroadcastMap) {
        self.operation = operation
        self.map = map
        super.init(node: node, inputs: inputs, outputs: outputs)
    }

    static func build(_ ctx: StepContext, _ operation: Operation) throws(TrainerError) -> TrainingStep {
        let a = try ctx.input(0), b = try ctx.input(1)
        guard let map = BroadcastMap([a.shape, b.shape]) else {
            throw ctx.shapeError("\(describeShape(a.shape)) and \(describeShape(b.shape)) do not broadcast")
        }
        let y = try ctx.output(shape: map.outShape)
        return BinaryStep(node: ctx.node, inputs: [a, b], outputs: [y], operation: operation, map: map)
    }

    override var differentiableInputs: [Int] { [0, 1] }

    /// Element (row, j) of operand k.
    @inline(__always) private func at(_ k: Int, _ row: Int, _ j: Int) -> Int {
        map.identity[k] ? row * map.rowLength + j : map.rowOffsets[k][row] + j * map.innerStride[k]
    }

    override func forward() {
        let a = inputs[0]!.data, b = inputs[1]!.data, y = outputs[0].data
        if map.identity[0] && map.identity[1] {
            let n = outputs[0].count
            switch operation {
            case .add: for i in 0..<n { y[i] = a[i] + b[i] }
            case .sub: for i in 0..<n { y[i] = a[i] - b[i] }
            case .mul: for i in 0..<n { y[i] = a[i] * b[i] }
            }
            return
        }
        let len = map.rowLength
        for row in 0..<map.rows {
            for j in 0..<len {
                let u = a[at(0, row, j)], v = b[at(1, row, j)]
                let r: Float
                switch operation {
                case .add: r = u + v
                case .sub: r = u - v
                case .mul: r = u * v
                }
                y[row * len + j] = r
            }
        }
    }

    override func backward() {
        guard let dy = outputs[0].grad else { return }
        for k in 0..<2 {
            guard let dk = inputs[k]!.grad else { continue }
            let other = inputs[1 - k]!.data
            let add = accumulate[k]
            let sign: Float = operation == .sub && k == 1 ? -1 : 1
            let len = map.rowLength
            if map.identity[k] {
                for row in 0..<map.rows {
                    for j in 0..<len {
                        let i = row * len + j
                        let g = operation == .mul ? dy[i] * other[at(1 - k, row, j)] : sign * dy[i]
                        store(dk, i, g, add)
                    }
                }
                continue
            }
            // Broadcast operand: several output elements land on one input element, so always sum.
            if !add { dk.initialize(repeating: 0, count: inputs[k]!.count) }
            for row in 0..<map.rows {
                for j in 0..<len {
                    let i = row * len + j
                    let g = operation == .mul ? dy[i] * other[at(1 - k, row, j)] : sign * dy[i]
                    dk[at(k, row, j)] += g
                }
            }
        }
    }
}
