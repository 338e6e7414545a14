// Compiles an EdgeRuntime Graph into training steps for one batch size: every value gets a fixed shape and
// preallocated storage, then the linker decides which values need a gradient (those the loss reaches
// through a trainable normalization parameter) and which step writes each gradient first.
import EdgeRuntime

struct CompiledTrainingGraph {
    let steps: [TrainingStep]
    /// Steps whose output carries a gradient, in backward (reverse) order.
    let backwardSteps: [TrainingStep]
    let input: ValueSlot
    let output: ValueSlot
    /// Every normalization layer's scale and bias, layer by layer in graph order.
    let parameters: [ValueSlot]
    let batchNorms: [BatchNormStep]
}

enum TrainingGraph {
    static func compile(_ graph: Graph, batch: Int, options: TrainingOptions) throws(TrainerError) -> CompiledTrainingGraph {
        let (inputName, inputShape) = try signature(graph, batch: batch)
        var values: [String: ValueSlot] = [:]
        let input = ValueSlot(activation: inputName, shape: inputShape)
        values[inputName] = input
        // Trainable: the affine parameters of every normalization layer (NormParameters decides which).
        var parameterNames: [String] = []
        for layer in NormParameters.layers(of: graph) {
            parameterNames.append(layer.scale)
            if let b = layer.bias { parameterNames.append(b) }
        }
        var parameters: [String: ValueSlot] = [:]
        for name in parameterNames where parameters[name] == nil {
            let slot = ValueSlot(constant: name, tensor: graph.initializers[name]!)
            slot.isParameter = true
            slot.requiresGrad = true
            parameters[name] = slot
            values[name] = slot
        }

        var steps: [TrainingStep] = []
        for node in graph.nodes {
            if !node.domain.isEmpty && node.domain != "ai.onnx" {
                throw .unsupportedOperator(op: "\(node.domain).\(node.opType)", node: node.label, reason: "")
            }
            var inputs: [ValueSlot?] = []
            for name in node.inputs {
                if name.isEmpty {
                    inputs.append(nil)
                } else if let slot = values[name] {
                    inputs.append(slot)
                } else if let t = graph.initializers[name] {
                    let slot = ValueSlot(constant: name, tensor: t)
                    values[name] = slot
                    inputs.append(slot)
                } else {
                    throw .missingValue(name: name, node: node.label)
                }
            }
            if node.opType == "Constant" {
                let slot = try constantNode(node)
                values[slot.name] = slot
                continue
            }
            let ctx = StepContext(node: node, inputs: inputs, options: options)
            let step = try build(ctx)
            // A gradient flows out of a step when one of its differentiable inputs depends on a parameter.
            let differentiable = step.differentiableInputs
            for (i, slot) in step.inputs.enumerated() {
                guard let slot, slot.requiresGrad else { continue }
                if differentiable.contains(i) {
                    for out in step.outputs { out.requiresGrad = true }
                } else {
                    throw .gradientThroughConstantInput(node: node.label, input: slot.name)
                }
            }
            for out in step.outputs { values[out.name] = out }
            steps.append(step)
        }
        guard let outputName = graph.outputs.first?.name, let output = values[outputName], output.constant == nil else {
            throw .unsupportedGraphSignature(reason: "the graph output is not computed by any node")
        }
        let backward = link(steps, output: output, parameters: Array(parameters.values))
        return CompiledTrainingGraph(steps: steps, backwardSteps: backward, input: input, output: output,
                                     parameters: parameterNames.compactMap { parameters[$0] }.uniqued(),
                                     batchNorms: steps.compactMap { $0 as? BatchNormStep })
    }

    /// One float input whose first dimension is the batch and whose other dimensions are fixed; the first
    /// output is the logits.
    private static func signature(_ graph: Graph, batch: Int) throws(TrainerError) -> (String, [Int]) {
        if batch < 1 { throw .unsupportedGraphSignature(reason: "batch size \(batch) must be positive") }
        let dataInputs = graph.inputs.filter { graph.initializers[$0.name] == nil }
        guard dataInputs.count == 1, let input = dataInputs.first else {
            throw .unsupportedGraphSignature(reason: "the graph has \(dataInputs.count) inputs; the trainer takes one")
        }
        if input.type != nil && input.type != .float32 { throw .notFloat32(value: input.name, node: "graph input") }
        guard let declared = input.shape, !declared.isEmpty else {
            throw .unsupportedGraphSignature(reason: "input '\(input.name)' declares no shape")
        }
        var shape = [batch]
        for d in declared.dropFirst() {
            guard case .fixed(let n) = d else {
                throw .unsupportedGraphSignature(reason: "input '\(input.name)' has a symbolic dimension after the batch")
            }
            shape.append(n)
        }
        if graph.outputs.isEmpty { throw .unsupportedGraphSignature(reason: "the graph has no output") }
        return (input.name, shape)
    }

    private static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        switch ctx.node.opType {
        case "Conv": return try ConvStep.build(ctx)
        case "BatchNormalization": return try BatchNormStep.build(ctx)
        case "InstanceNormalization": return try RowNormStep.instanceNorm(ctx)
        case "LayerNormalization": return try RowNormStep.layerNorm(ctx)
        case "Relu": return try ReluStep.build(ctx)
        case "Clip": return try ClipStep.build(ctx)
        case "Add": return try BinaryStep.build(ctx, .add)
        case "Sub": return try BinaryStep.build(ctx, .sub)
        case "Mul": return try BinaryStep.build(ctx, .mul)
        case "MaxPool": return try PoolStep.build(ctx, max: true)
        case "AveragePool": return try PoolStep.build(ctx, max: false)
        case "GlobalAveragePool": return try GlobalAveragePoolStep.build(ctx)
        case "Gemm": return try GemmStep.build(ctx)
        case "MatMul": return try MatMulStep.build(ctx)
        case "Flatten": return try CopyStep.flatten(ctx)
        case "Reshape": return try CopyStep.reshape(ctx)
        case "Identity": return try CopyStep.identity(ctx)
        case "Softmax": return try SoftmaxStep.build(ctx, logarithmic: false)
        case "LogSoftmax": return try SoftmaxStep.build(ctx, logarithmic: true)
        default: throw ctx.unsupported("no training-time implementation")
        }
    }

    private static func constantNode(_ node: Node) throws(TrainerError) -> ValueSlot {
        guard let name = node.outputs.first, !name.isEmpty else {
            throw .shapeError(node: node.label, reason: "Constant has no output")
        }
        if let t = node.tensor("value") { return ValueSlot(constant: name, tensor: t) }
        if let v = node.float("value_float") { return ValueSlot(constant: name, tensor: Tensor(shape: [], floats: [v])) }
        if let v = node.floats("value_floats") { return ValueSlot(constant: name, tensor: Tensor(shape: [v.count], floats: v)) }
        if let v = node.int("value_int") { return ValueSlot(constant: name, tensor: Tensor(shape: [], int64s: [Int64(v)])) }
        if let v = node.ints("value_ints") {
            return ValueSlot(constant: name, tensor: Tensor(shape: [v.count], int64s: v.map { Int64($0) }))
        }
        throw .unsupportedOperator(op: "Constant", node: node.label, reason: "only dense value/value_float(s)/value_int(s)")
    }

    /// Allocates the gradients the backward pass needs and sets each step's accumulate flags. Returns the
    /// steps to run backward, in reverse order.
    private static func link(_ steps: [TrainingStep], output: ValueSlot, parameters: [ValueSlot]) -> [TrainingStep] {
        var needed: Set<ObjectIdentifier> = [ObjectIdentifier(output)]
        var backward: [TrainingStep] = []
        for step in steps.reversed() {
            guard let out = step.outputs.first, out.requiresGrad, needed.contains(ObjectIdentifier(out)) else { continue }
            backward.append(step)
            for i in step.differentiableInputs {
                if i < step.inputs.count, let slot = step.inputs[i], slot.requiresGrad { needed.insert(ObjectIdentifier(slot)) }
            }
        }
        for p in parameters { p.allocateGradient() }
        if output.requiresGrad { output.allocateGradient() }
        // The output's gradient is written by backward(dLogits:) before any step runs.
        var written: Set<ObjectIdentifier> = [ObjectIdentifier(output)]
        for step in backward {
            for i in step.differentiableInputs {
                guard i < step.inputs.count, let slot = step.inputs[i], slot.requiresGrad else { continue }
                slot.allocateGradient()
                let id = ObjectIdentifier(slot)
                // Parameters are zeroed at the start of every backward pass and always added into.
                step.accumulate[i] = slot.isParameter || written.contains(id)
                written.insert(id)
            }
            step.prepareBackward()
        }
        return backward
    }
}

extension Array where Element: AnyObject {
    /// Keeps the first occurrence of each object.
    func uniqued() -> [Element] {
        var seen: Set<ObjectIdentifier> = []
        return filter { seen.insert(ObjectIdentifier($0)).inserted }
    }
}
