// Normalisations along an axis (Softmax, LogSoftmax, Hardmax) and PRelu, whose slope broadcasts one way.

enum SoftmaxOps {
    enum Kind { case softmax, logSoftmax, hardmax }

    /// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each row of
    /// prod(shape[axis...]) elements is normalised; since 13 only the axis itself is (default -1).
    static func build(_ ctx: OpContext, _ kind: Kind) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let rank = shape.count
        let legacy = ctx.opset < 13
        let a = ctx.node.int("axis", default: legacy ? 1 : -1)
        let outer: Int, n: Int, inner: Int
        if legacy {
            let axis = a < 0 ? a + rank : a
            if axis < 0 || axis > rank { throw ctx.shapeError("axis \(a) is out of range for rank \(rank)") }
            outer = shapeCount(Array(shape[0..<axis]))
            n = shapeCount(Array(shape[axis...]))
            inner = 1
        } else {
            if rank == 0 { throw ctx.shapeError("\(ctx.node.opType) needs an input of rank >= 1") }
            let axis = try ctx.axis(a, rank: rank)
            outer = shapeCount(Array(shape[0..<axis]))
            n = shape[axis]
            inner = shapeCount(Array(shape[(axis + 1)...]))
        }
        // float32/float64 compute in their own type, so exp values can wait in the output.
        let exact = type == .float32 || type == .float64
        func make<T: NumericElement, A: MathFloat>(_: T.Type, _: A.Type) -> OpBuild {
            OpBuild(type, shape) { i, o in
                let x = i[0]!.typed(T.self), y = o[0].typed(T.self)
                return {
                    for p in 0..<outer {
                        for q in 0..<inner {
                            let base = p * n * inner + q
                            switch kind {
                            case .softmax, .logSoftmax:
                                normalize(x + base, y + base, n, inner, log: kind == .logSoftmax, exact: exact, A.self)
                            case .hardmax:
                                hardmax(x + base, y + base, n, inner)
                            }
                        }
                    }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self, Float.self)
        case .float64: return make(Double.self, Double.self)
        case .float16: return make(Float16.self, Float.self)
        case .bfloat16: return make(BFloat16Element.self, Float.self)
        default: throw ctx.unsupported("\(ctx.node.opType) of \(type.name)")
        }
    }

    /// One softmax (or log-softmax) over n elements `stride` apart, shifted by the maximum for stability.
    @inline(__always)
    static func normalize<T: NumericElement, A: MathFloat>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                           _ n: Int, _ stride: Int, log: Bool, exact: Bool,
                                                           _: A.Type) {
        if n == 0 { return }
        var m = -A.infinity
        for r in 0..<n { let v = A(element: x[r * stride]); if v > m { m = v } }
        if m == -A.infinity { m = 0 }  // all -inf: keep exp(x - m) defined
        var sum: A = 0
        if log {
            for r in 0..<n { sum += A.exp(A(element: x[r * stride]) - m) }
            let shift = m + A.log(sum)
            for r in 0..<n { y[r * stride] = (A(element: x[r * stride]) - shift).element(as: T.self) }
        } else if exact {
            // The output holds exp exactly until scaled: one exp per element.
            for r in 0..<n {
                let e = A.exp(A(element: x[r * stride]) - m)
                y[r * stride] = e.element(as: T.self)
                sum += e
            }
            let scale = 1 / sum
            for r in 0..<n { y[r * stride] = (A(element: y[r * stride]) * scale).element(as: T.self) }
        } else {
            for r in 0..<n { sum += A.exp(A(element: x[r * stride]) - m) }
            let scale = 1 / sum
            for r in 0..<n { y[r * stride] = (A.exp(A(element: x[r * stride]) - m) * scale).element(as: T.self) }
        }
    }

    /// 1 at the first maximum, 0 elsewhere.
    @inline(__always)
    static func hardmax<T: NumericElement>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ stride: Int) {
        if n == 0 { return }
        var best = x[0], at = 0
        for r in 1..<max(n, 1) where x[r * stride] > best {
            best = x[r * stride]
            at = r
        }
        for r in 0..<n { y[r * stride] = T(int64: r == at ? 1 : 0) }
    }

    /// PRelu: y = x < 0 ? slope * x : x, the slope broadcast to x (unidirectionally). Before opset 7 a 1-D
    /// slope of x.shape[1] elements is per channel; exporters still emit that layout, so it is accepted
    /// whenever numpy broadcasting would not fit.
    static func prelu(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        if try ctx.input(1).type != type { throw ctx.unsupported("slope has another element type than x") }
        let shape = try ctx.shape(0)
        var slope = try ctx.shape(1)
        let perChannel = slope.count == 1 && shape.count >= 2 && slope[0] == shape[1]
        let fits = slope.count <= shape.count && broadcastShapes([shape, slope]) == shape
        if perChannel && (!fits || ctx.opset < 7) {
            slope = [slope[0]] + [Int](repeating: 1, count: shape.count - 2)
        } else if !fits {
            throw ctx.shapeError("PRelu: slope \(describeShape(slope)) does not broadcast to \(describeShape(shape))")
        }
        let plan = BroadcastPlan(operands: [shape, slope], out: shape)
        // The usual layouts, one slope per element or per channel (a single non-1 slope axis), run as
        // [outer, channels, inner] loops; anything else uses the general broadcast.
        let aligned = [Int](repeating: 1, count: shape.count - slope.count) + slope
        let varying = (0..<aligned.count).filter { aligned[$0] != 1 }
        let simple = varying.count <= 1
        let axis = varying.first ?? 0
        let outer = simple && !shape.isEmpty ? shapeCount(Array(shape[0..<axis])) : 1
        let channels = simple && !varying.isEmpty ? shape[axis] : 1
        let inner = simple && !shape.isEmpty ? shapeCount(Array(shape[(axis + 1)...])) * (varying.isEmpty ? shape[axis] : 1) : 1
        func make<T: NumericElement>(_: T.Type) -> OpBuild {
            OpBuild(type, shape) { i, o in
                let x = i[0]!.typed(T.self), s = i[1]!.typed(T.self), y = o[0].typed(T.self)
                let zero = T(int64: 0)
                if simple {
                    return {
                        var k = 0
                        for _ in 0..<outer {
                            for c in 0..<channels {
                                let a = s[c].doubleValue
                                for _ in 0..<inner {
                                    let v = x[k]
                                    y[k] = v < zero ? T(double: v.doubleValue * a) : v
                                    k += 1
                                }
                            }
                        }
                    }
                }
                return { broadcastBinary(x, s, y, plan) { v, k in v < zero ? T(double: v.doubleValue * k.doubleValue) : v } }
            }
        }
        switch type {
        case .float32:
            return OpBuild(type, shape) { i, o in
                let x = i[0]!.f32, s = i[1]!.f32, y = o[0].f32
                if simple {
                    return {
                        var k = 0
                        for _ in 0..<outer {
                            for c in 0..<channels {
                                let a = s[c]
                                for _ in 0..<inner {
                                    let v = x[k]
                                    y[k] = v < 0 ? v * a : v
                                    k += 1
                                }
                            }
                        }
                    }
                }
                return { broadcastBinary(x, s, y, plan) { v, k in v < 0 ? v * k : v } }
            }
        case .float64: return make(Double.self)
        case .float16: return make(Float16.self)
        case .int32: return make(Int32.self)
        case .int64: return make(Int64.self)
        default: throw ctx.unsupported("PRelu of \(type.name)")
        }
    }
}
