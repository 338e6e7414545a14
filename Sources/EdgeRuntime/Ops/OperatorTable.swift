// One line per supported operator: op type -> the family function that plans it (ggml-style table).

enum OperatorTable {
    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let node = ctx.node
        if !node.domain.isEmpty {
            throw .unsupportedOperator(op: "\(node.domain).\(node.opType)", node: node.label, reason: "operator domain \(node.domain) is not supported")
        }
        switch node.opType {
        // Arithmetic, comparisons and logic with broadcasting (Elementwise.swift)
        case "Add": return try Elementwise.arithmetic(ctx, .add)
        case "Sub": return try Elementwise.arithmetic(ctx, .sub)
        case "Mul": return try Elementwise.arithmetic(ctx, .mul)
        case "Div": return try Elementwise.arithmetic(ctx, .div)
        case "Pow": return try Elementwise.arithmetic(ctx, .pow)
        case "Mod": return try Elementwise.arithmetic(ctx, .mod)
        case "Equal": return try Elementwise.compare(ctx, .equal)
        case "Less": return try Elementwise.compare(ctx, .less)
        case "Greater": return try Elementwise.compare(ctx, .greater)
        case "LessOrEqual": return try Elementwise.compare(ctx, .lessOrEqual)
        case "GreaterOrEqual": return try Elementwise.compare(ctx, .greaterOrEqual)
        case "And": return try Elementwise.logic(ctx, .and)
        case "Or": return try Elementwise.logic(ctx, .or)
        case "Xor": return try Elementwise.logic(ctx, .xor)
        case "Sum": return try Elementwise.variadic(ctx, .sum)
        case "Mean": return try Elementwise.variadic(ctx, .mean)
        case "Max": return try Elementwise.variadic(ctx, .max)
        case "Min": return try Elementwise.variadic(ctx, .min)
        case "Where": return try Elementwise.whereSelect(ctx)

        // Unary maps and activations (Unary.swift)
        case "Relu", "LeakyRelu", "Elu", "Celu", "Selu", "ThresholdedRelu", "Sigmoid", "HardSigmoid", "HardSwish",
             "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Erf", "Sqrt", "Exp", "Log", "Reciprocal", "Floor",
             "Ceil", "Round", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
             "Atanh", "Neg", "Abs", "Sign", "Shrink", "Clip", "Not":
            return try Unary.build(ctx)

        // Convolution, matrix products, pooling, normalization (Conv.swift, MatMul.swift, Pooling.swift,
        // Normalization.swift)
        // -- lead: Conv family --
        case "Conv": return try Conv.conv(ctx)
        case "ConvTranspose": return try Conv.convTranspose(ctx)
        case "MatMul": return try MatMul.matmul(ctx)
        case "Gemm": return try MatMul.gemm(ctx)
        case "MaxPool": return try Pooling.pool(ctx, max: true)
        case "AveragePool": return try Pooling.pool(ctx, max: false)
        case "GlobalAveragePool": return try Pooling.global(ctx, max: false)
        case "GlobalMaxPool": return try Pooling.global(ctx, max: true)
        case "BatchNormalization": return try Normalization.batchNorm(ctx)
        case "InstanceNormalization": return try Normalization.instanceNorm(ctx)
        case "LayerNormalization": return try Normalization.layerNorm(ctx)
        case "GroupNormalization": return try Normalization.groupNorm(ctx)

        // Data movement, shapes, reductions, softmax (Shape*.swift, Reduce.swift, Softmax.swift, Resize.swift)
        // -- ops helper: data movement family --

        default:
            throw .unsupportedOperator(op: node.opType, node: node.label, reason: "")
        }
    }
}
