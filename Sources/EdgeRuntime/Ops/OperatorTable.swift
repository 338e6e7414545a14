// One line per supported operator: op type -> the family function that plans it (ggml-style table).

enum OperatorTable {
    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let node = ctx.node
        if node.domain == QuantizedFusion.domain {
            switch node.opType {
            case FloatFusion.opType: return try FusedConv.build(ctx)
            case FusedConvPair.opType: return try FusedConvPair.build(ctx)
            case FloatFusion.addReluOpType: return try Elementwise.addRelu(ctx)
            case "QAdd": return try QuantizedAdd.build(ctx)
            case HalfPrecisionWeights.widenOpType: return try HalfPrecisionWeights.widen(ctx)
            default: return try QuantizedConv.build(ctx)
            }
        }
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
        case "Shape": return try ShapeOps.shape(ctx)
        case "Size": return try ShapeOps.size(ctx)
        case "Reshape": return try ShapeOps.reshape(ctx)
        case "Flatten": return try ShapeOps.flatten(ctx)
        case "Squeeze": return try ShapeOps.squeeze(ctx)
        case "Unsqueeze": return try ShapeOps.unsqueeze(ctx)
        case "Expand": return try ShapeOps.expand(ctx)
        case "Identity": return try ShapeOps.identity(ctx)
        case "Dropout": return try ShapeOps.dropout(ctx)
        case "Constant": return try ShapeOps.constant(ctx)
        case "ConstantOfShape": return try ShapeOps.constantOfShape(ctx)
        case "Range": return try ShapeOps.range(ctx)
        case "Transpose": return try LayoutOps.transpose(ctx)
        case "Concat": return try LayoutOps.concat(ctx)
        case "Split": return try LayoutOps.split(ctx)
        case "Slice": return try LayoutOps.slice(ctx)
        case "Gather": return try LayoutOps.gather(ctx)
        case "GatherElements": return try LayoutOps.gatherElements(ctx)
        case "GatherND": return try LayoutOps.gatherND(ctx)
        case "Tile": return try LayoutOps.tile(ctx)
        case "Pad": return try LayoutOps.pad(ctx)
        case "DepthToSpace": return try LayoutOps.depthSpace(ctx, toSpace: true)
        case "SpaceToDepth": return try LayoutOps.depthSpace(ctx, toSpace: false)
        case "Cast", "CastLike": return try CastOps.build(ctx)
        case "QuantizeLinear": return try QuantizeOps.quantize(ctx)
        case "DequantizeLinear": return try QuantizeOps.dequantize(ctx)
        case "ReduceSum": return try ReduceOps.reduce(ctx, .sum)
        case "ReduceMean": return try ReduceOps.reduce(ctx, .mean)
        case "ReduceMax": return try ReduceOps.reduce(ctx, .max)
        case "ReduceMin": return try ReduceOps.reduce(ctx, .min)
        case "ReduceProd": return try ReduceOps.reduce(ctx, .prod)
        case "ReduceL1": return try ReduceOps.reduce(ctx, .l1)
        case "ReduceL2": return try ReduceOps.reduce(ctx, .l2)
        case "ReduceSumSquare": return try ReduceOps.reduce(ctx, .sumSquare)
        case "ReduceLogSum": return try ReduceOps.reduce(ctx, .logSum)
        case "ReduceLogSumExp": return try ReduceOps.reduce(ctx, .logSumExp)
        case "ArgMax": return try ReduceOps.argExtreme(ctx, max: true)
        case "ArgMin": return try ReduceOps.argExtreme(ctx, max: false)
        case "TopK": return try TopKOps.build(ctx)
        case "Softmax": return try SoftmaxOps.build(ctx, .softmax)
        case "LogSoftmax": return try SoftmaxOps.build(ctx, .logSoftmax)
        case "Hardmax": return try SoftmaxOps.build(ctx, .hardmax)
        case "PRelu": return try SoftmaxOps.prelu(ctx)
        case "Resize": return try ResizeOps.resize(ctx)
        case "Upsample": return try ResizeOps.upsample(ctx)

        // Scatter, losses and small standalone operators (Scatter.swift, Loss.swift, Misc.swift)
        case "ScatterElements", "Scatter": return try ScatterOps.elements(ctx)
        case "ScatterND": return try ScatterOps.nd(ctx)
        case "NegativeLogLikelihoodLoss": return try LossOps.negativeLogLikelihood(ctx)
        case "SoftmaxCrossEntropyLoss": return try LossOps.softmaxCrossEntropy(ctx)
        case "Trilu": return try MiscOps.trilu(ctx)
        case "CumSum": return try MiscOps.cumSum(ctx)
        case "OneHot": return try MiscOps.oneHot(ctx)
        case "IsInf": return try MiscOps.classify(ctx, nan: false)
        case "IsNaN": return try MiscOps.classify(ctx, nan: true)
        case "EyeLike": return try MiscOps.eyeLike(ctx)
        case "BitShift": return try MiscOps.bitShift(ctx)

        default:
            throw .unsupportedOperator(op: node.opType, node: node.label, reason: "")
        }
    }
}
