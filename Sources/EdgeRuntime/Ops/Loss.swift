// Loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none/sum/mean, class
// weights, ignore_index, N-d inputs, SoftmaxCrossEntropyLoss's optional log_prob output).

enum LossOps {
    enum Reduction { case none, sum, mean }

    /// The geometry shared by both losses: scores [N, C, d1...dk] viewed as [N, C, D], targets [N, D].
    struct Layout {
        var n: Int
        var classes: Int
        var d: Int
        var reduction: Reduction
        var ignoreIndex: Int?
        var targetWide: Bool
        var hasWeight: Bool
    }

    static func layout(_ ctx: OpContext) throws(ModelLoadError) -> (Layout, outShape: [Int]) {
        let scores = try ctx.shape(0), target = try ctx.shape(1)
        let targetType = try ctx.requireType(1, [.int32, .int64])
        if scores.count < 2 || target.count != scores.count - 1 || target[0] != scores[0]
            || Array(target[1...]) != Array(scores[2...]) {
            throw ctx.shapeError("\(ctx.node.opType): scores \(describeShape(scores)) and target \(describeShape(target)) do not fit [N, C, d...] and [N, d...]")
        }
        let reduction: Reduction
        switch ctx.node.string("reduction") ?? "mean" {
        case "none": reduction = .none
        case "sum": reduction = .sum
        case "mean": reduction = .mean
        case let other: throw ctx.unsupported("reduction '\(other)' is not supported")
        }
        let hasWeight = ctx.has(2)
        if hasWeight {
            if try ctx.input(2).type != ctx.input(0).type { throw ctx.unsupported("weights have another element type than the scores") }
            if try ctx.shape(2) != [scores[1]] { throw ctx.shapeError("\(ctx.node.opType): weights must have shape [\(scores[1])]") }
        }
        let layout = Layout(n: scores[0], classes: scores[1], d: shapeCount(Array(scores[2...])), reduction: reduction,
                            ignoreIndex: ctx.node.int("ignore_index"), targetWide: targetType == .int64, hasWeight: hasWeight)
        return (layout, reduction == .none ? target : [])
    }

    static func negativeLogLikelihood(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try build(ctx, softmax: false)
    }

    static func softmaxCrossEntropy(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try build(ctx, softmax: true)
    }

    static func build(_ ctx: OpContext, softmax: Bool) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.requireType(0, [.float32, .float64, .float16, .bfloat16])
        let (layout, out) = try layout(ctx)
        var outputs: [(type: ElementType, shape: [Int])] = [(type, out)]
        // log_prob (the scores' log-softmax) only when the node names a second output.
        if softmax && ctx.node.outputs.count > 1 { outputs.append((type, try ctx.shape(0))) }
        func make<T: NumericElement, A: MathFloat>(_: T.Type, _: A.Type) -> OpBuild {
            OpBuild(outputs: outputs) { i, o in
                let x = i[0]!.typed(T.self), target = i[1]!.data, y = o[0].typed(T.self)
                let weight = layout.hasWeight ? i[2]!.typed(T.self) : nil
                let logProb = softmax && o.count > 1 ? o[1].typed(T.self) : nil
                return { loss(layout, x, target, weight, y, logProb, softmax: softmax, A.self) }
            }
        }
        switch type {
        case .float32: return make(Float.self, Float.self)
        case .float64: return make(Double.self, Double.self)
        case .float16: return make(Float16.self, Float.self)
        default: return make(BFloat16Element.self, Float.self)
        }
    }

    /// For each position (n, d): the picked class t = target[n, d]; its loss is -w[t] * score[n, t, d],
    /// the score being a log-probability (NLL) or the scores' log-softmax over C (SCE, computed here as
    /// x - max - log(sum(exp(x - max))) without scratch). Positions whose target equals ignore_index, or
    /// lies outside [0, C), weigh 0. mean divides by the total weight, so with neither weights nor ignored
    /// positions it is the plain average.
    static func loss<T: NumericElement, A: MathFloat>(
        _ l: Layout, _ x: UnsafeMutablePointer<T>, _ target: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<T>?,
        _ y: UnsafeMutablePointer<T>, _ logProb: UnsafeMutablePointer<T>?, softmax: Bool, _: A.Type) {
        let c = l.classes, d = l.d
        let t32 = target.assumingMemoryBound(to: Int32.self), t64 = target.assumingMemoryBound(to: Int64.self)
        var total: A = 0, totalWeight: A = 0
        for n in 0..<l.n {
            for p in 0..<d {
                let base = n * c * d + p
                var shift: A = 0
                if softmax && c > 0 {
                    var m = -A.infinity
                    for k in 0..<c { m = Swift.max(m, A(element: x[base + k * d])) }
                    if !m.isFinite { m = 0 }  // all -inf (or an inf): keep exp(x - m) defined
                    var s: A = 0
                    for k in 0..<c { s += A.exp(A(element: x[base + k * d]) - m) }
                    shift = m + A.log(s)
                    if let logProb {
                        for k in 0..<c { logProb[base + k * d] = (A(element: x[base + k * d]) - shift).element(as: T.self) }
                    }
                }
                let at = n * d + p
                let t = l.targetWide ? Int(truncatingIfNeeded: t64[at]) : Int(t32[at])
                var value: A = 0, w: A = 0
                if t != l.ignoreIndex && t >= 0 && t < c {
                    w = weight.map { A(element: $0[t]) } ?? 1
                    value = -(A(element: x[base + t * d]) - shift) * w
                }
                if l.reduction == .none {
                    y[at] = value.element(as: T.self)
                } else {
                    total += value
                    totalWeight += w
                }
            }
        }
        switch l.reduction {
        case .none: break
        case .sum: y[0] = total.element(as: T.self)
        case .mean: y[0] = (total / totalWeight).element(as: T.self)
        }
    }
}
