// Relu, Clip, Softmax and LogSoftmax for training: pointwise or along one axis, gradients by the usual
// closed forms (Relu/Clip pass dY where the input was inside the range; softmax's Jacobian-vector product).
import EdgeRuntime
import Foundation

final class ReluStep: TrainingStep {
    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        return ReluStep(node: ctx.node, inputs: [x], outputs: [try ctx.output(shape: x.shape)])
    }

    override func forward() {
        let x = inputs[0]!.data, y = outputs[0].data
        for i in 0..<outputs[0].count { y[i] = max(x[i], 0) }
    }

    override func backward() {
        guard let dx = inputs[0]!.grad, let dy = outputs[0].grad else { return }
        let y = outputs[0].data, n = outputs[0].count
        // PyTorch's threshold_backward: the gradient passes where the output is positive. Two loops keep
        // the branch on `accumulate` out of the (vectorised) body.
        if accumulate[0] {
            for i in 0..<n { dx[i] += y[i] > 0 ? dy[i] : 0 }
        } else {
            for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
        }
    }
}

final class ClipStep: TrainingStep {
    private var low = -Float.infinity, high = Float.infinity

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        let step = ClipStep(node: ctx.node, inputs: [x], outputs: [try ctx.output(shape: x.shape)])
        if ctx.node.opsetVersion < 11 {
            step.low = ctx.node.float("min", default: -Float.infinity)
            step.high = ctx.node.float("max", default: Float.infinity)
        } else {
            // Opset 11+: bounds are optional scalar inputs, which must be constants here.
            if ctx.has(1) { step.low = try scalar(ctx, 1) }
            if ctx.has(2) { step.high = try scalar(ctx, 2) }
        }
        return step
    }

    private static func scalar(_ ctx: StepContext, _ i: Int) throws(TrainerError) -> Float {
        let t = try ctx.constant(i)
        if t.count != 1 { throw ctx.shapeError("bound #\(i) must be a scalar") }
        return t.floats()[0]
    }

    override func forward() {
        let x = inputs[0]!.data, y = outputs[0].data
        for i in 0..<outputs[0].count { y[i] = min(max(x[i], low), high) }
    }

    override func backward() {
        guard let dx = inputs[0]!.grad, let dy = outputs[0].grad else { return }
        let x = inputs[0]!.data, add = accumulate[0]
        // PyTorch's clamp_backward: the gradient passes where low <= x <= high.
        for i in 0..<outputs[0].count { store(dx, i, x[i] >= low && x[i] <= high ? dy[i] : 0, add) }
    }
}

/// Softmax / LogSoftmax along one axis: the tensor is seen as [outer, axisLength, inner].
final class SoftmaxStep: TrainingStep {
    let logarithmic: Bool
    let outer: Int, length: Int, inner: Int

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot], logarithmic: Bool, outer: Int, length: Int, inner: Int) {
        self.logarithmic = logarithmic
        self.outer = outer
        self.length = length
        self.inner = inner
        super.init(node: node, inputs: inputs, outputs: outputs)
    }

    static func build(_ ctx: StepContext, logarithmic: Bool) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        let shape = x.shape
        let y = try ctx.output(shape: shape)
        // Before opset 13 the input is coerced to 2-D at `axis` (default 1): one softmax over all trailing
        // axes. From 13 on it is a single axis (default -1).
        let legacy = ctx.node.opsetVersion < 13
        let axis = try ctx.axis(ctx.node.int("axis", default: legacy ? 1 : -1), rank: shape.count)
        let outer = shapeCount(Array(shape[..<axis]))
        let length = legacy ? shapeCount(Array(shape[axis...])) : shape[axis]
        let inner = legacy ? 1 : shapeCount(Array(shape[(axis + 1)...]))
        return SoftmaxStep(node: ctx.node, inputs: [x], outputs: [y], logarithmic: logarithmic,
                           outer: outer, length: length, inner: inner)
    }

    override func forward() {
        let x = inputs[0]!.data, y = outputs[0].data
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                for k in 0..<length { m = max(m, x[base + k * inner]) }
                var sum: Float = 0
                for k in 0..<length {
                    let e = expf(x[base + k * inner] - m)
                    y[base + k * inner] = e
                    sum += e
                }
                if logarithmic {
                    let logSum = logf(sum)
                    for k in 0..<length { y[base + k * inner] = x[base + k * inner] - m - logSum }
                } else {
                    let inv = 1 / sum
                    for k in 0..<length { y[base + k * inner] *= inv }
                }
            }
        }
    }

    override func backward() {
        guard let dx = inputs[0]!.grad, let dy = outputs[0].grad else { return }
        let y = outputs[0].data, add = accumulate[0]
        // Softmax: dx = y (dy - sum(dy y)).  LogSoftmax: dx = dy - exp(y) sum(dy).
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var s: Float = 0
                for k in 0..<length {
                    let at = base + k * inner
                    s += logarithmic ? dy[at] : dy[at] * y[at]
                }
                for k in 0..<length {
                    let at = base + k * inner
                    store(dx, at, logarithmic ? dy[at] - expf(y[at]) * s : y[at] * (dy[at] - s), add)
                }
            }
        }
    }
}
