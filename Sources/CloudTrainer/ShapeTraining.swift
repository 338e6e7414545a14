// Flatten, Reshape and Identity for training: the data is copied unchanged (a few KB in the shipped
// models), and so is the gradient on the way back.
import EdgeRuntime

final class CopyStep: TrainingStep {
    static func flatten(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        let rank = x.shape.count
        var axis = ctx.node.int("axis", default: 1)
        if axis < 0 { axis += rank }
        if axis < 0 || axis > rank {
            throw .invalidAttribute(node: ctx.label, attribute: "axis", reason: "\(axis) is out of range for rank \(rank)")
        }
        let shape = [shapeCount(Array(x.shape[..<axis])), shapeCount(Array(x.shape[axis...]))]
        return CopyStep(node: ctx.node, inputs: [x], outputs: [try ctx.output(shape: shape)])
    }

    /// Reshape with a constant shape: 0 copies the input's dimension (unless allowzero=1), -1 is inferred.
    static func reshape(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        let requested = try ctx.constant(1).int64s().map { Int($0) }
        let allowZero = ctx.node.int("allowzero", default: 0) != 0
        var shape: [Int] = []
        var inferred: Int? = nil
        for (i, d) in requested.enumerated() {
            switch d {
            case -1:
                if inferred != nil { throw ctx.shapeError("more than one -1 in the shape") }
                inferred = i
                shape.append(1)
            case 0 where !allowZero:
                if i >= x.shape.count { throw ctx.shapeError("0 at axis \(i) copies a dimension the input lacks") }
                shape.append(x.shape[i])
            default:
                if d < 0 { throw ctx.shapeError("negative dimension \(d)") }
                shape.append(d)
            }
        }
        if let inferred {
            let known = shapeCount(shape)
            if known == 0 || x.count % known != 0 {
                throw ctx.shapeError("cannot infer -1: \(x.count) values into \(describeShape(requested))")
            }
            shape[inferred] = x.count / known
        }
        if shapeCount(shape) != x.count {
            throw ctx.shapeError("\(describeShape(x.shape)) cannot be reshaped to \(describeShape(shape))")
        }
        return CopyStep(node: ctx.node, inputs: [x, ctx.inputs[1]], outputs: [try ctx.output(shape: shape)])
    }

    static func identity(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let x = try ctx.input(0)
        return CopyStep(node: ctx.node, inputs: [x], outputs: [try ctx.output(shape: x.shape)])
    }

    override func forward() {
        outputs[0].data.update(from: inputs[0]!.data, count: outputs[0].count)
    }

    override func backward() {
        guard let dx = inputs[0]!.grad, let dy = outputs[0].grad else { return }
        let n = outputs[0].count
        if accumulate[0] {
            for i in 0..<n { dx[i] += dy[i] }
        } else {
            dx.update(from: dy, count: n)
        }
    }
}
