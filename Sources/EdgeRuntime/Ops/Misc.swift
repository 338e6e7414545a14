// Small standalone operators: Trilu, CumSum, OneHot, IsInf, IsNaN, EyeLike, BitShift.

/// Per-type arithmetic for kernels that combine elements (CumSum, the Scatter reductions): integers wrap
/// as ONNX integer arithmetic does, floats follow IEEE. Closures, because Swift has no generic closures to
/// hand a type-erased "add" to one generic kernel.
struct ElementArithmetic<T> {
    let add: (T, T) -> T
    let mul: (T, T) -> T
    let max: (T, T) -> T
    let min: (T, T) -> T
    let zero: T
}

func floatArithmetic<T: BinaryFloatingPoint>(_: T.Type) -> ElementArithmetic<T> {
    ElementArithmetic(add: { $0 + $1 }, mul: { $0 * $1 }, max: { Swift.max($0, $1) }, min: { Swift.min($0, $1) }, zero: 0)
}

func integerArithmetic<T: FixedWidthInteger>(_: T.Type) -> ElementArithmetic<T> {
    ElementArithmetic(add: { $0 &+ $1 }, mul: { $0 &* $1 }, max: { Swift.max($0, $1) }, min: { Swift.min($0, $1) }, zero: 0)
}

/// bfloat16 computes through float32 and rounds back after each operation.
let bfloat16Arithmetic = ElementArithmetic<BFloat16Element>(
    add: { BFloat16Element(float: $0.floatValue + $1.floatValue) },
    mul: { BFloat16Element(float: $0.floatValue * $1.floatValue) },
    max: { $0.floatValue >= $1.floatValue ? $0 : $1 },
    min: { $0.floatValue <= $1.floatValue ? $0 : $1 },
    zero: BFloat16Element(float: 0))

enum MiscOps {
    /// Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each trailing matrix and
    /// zeroes the rest. k (optional scalar input) is read at run time: it does not change the shape.
    static func trilu(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let shape = try ctx.shape(0)
        let rank = shape.count
        if rank < 2 { throw ctx.shapeError("Trilu needs an input of rank >= 2, got \(describeShape(shape))") }
        let hasK = ctx.has(1)
        if hasK {
            _ = try ctx.requireType(1, [.int64])
            if try shapeCount(ctx.shape(1)) != 1 { throw ctx.shapeError("Trilu: k must hold one value") }
        }
        let upper = ctx.node.int("upper", default: 1) != 0
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let matrices = shapeCount(Array(shape[0..<(rank - 2)]))
        return OpBuild(type, shape) { i, o in
            let src = i[0]!.data, dst = o[0].data
            let kPointer = hasK ? i[1]!.i64 : nil
            return {
                // Clamped first so r + k cannot overflow; beyond ±(rows + cols) the result no longer changes.
                let limit = Int64(rows + cols)
                let k = Int(Swift.min(Swift.max(kPointer?[0] ?? 0, -limit), limit))
                var offset = 0
                for _ in 0..<matrices {
                    for r in 0..<rows {
                        // Kept columns [lo, hi) of this row.
                        let lo = upper ? Swift.min(Swift.max(r + k, 0), cols) : 0
                        let hi = upper ? cols : Swift.min(Swift.max(r + k + 1, 0), cols)
                        let row = offset * size
                        if lo > 0 { (dst + row).initializeMemory(as: UInt8.self, repeating: 0, count: lo * size) }
                        if hi > lo { (dst + row + lo * size).copyMemory(from: src + row + lo * size, byteCount: (hi - lo) * size) }
                        if cols > hi { (dst + row + hi * size).initializeMemory(as: UInt8.self, repeating: 0, count: (cols - hi) * size) }
                        offset += cols
                    }
                }
            }
        }
    }

    /// CumSum along the axis given by input #1 (int32/int64 scalar), inclusive or exclusive, forward or
    /// reversed. The axis is read at run time (backend tests feed it as a graph input); a constant one is
    /// checked here. Kernels cannot throw, so an out-of-range run-time axis leaves the input unchanged.
    static func cumSum(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let rank = shape.count
        if rank == 0 { throw ctx.shapeError("CumSum needs an input of rank >= 1") }
        let axisType = try ctx.requireType(1, [.int32, .int64])
        if try shapeCount(ctx.shape(1)) != 1 { throw ctx.shapeError("CumSum: axis must hold one value") }
        if let c = try ctx.input(1).constant { _ = try ctx.axis(Int(c.int64s()[0]), rank: rank) }
        let exclusive = ctx.node.int("exclusive", default: 0) != 0
        let reverse = ctx.node.int("reverse", default: 0) != 0
        let count = shapeCount(shape)
        func make<T>(_ ar: ElementArithmetic<T>) -> OpBuild {
            OpBuild(type, shape) { i, o in
                let x = i[0]!.typed(T.self), y = o[0].typed(T.self), a = i[1]!
                return {
                    var axis = axisType == .int64 ? Int(truncatingIfNeeded: a.i64[0]) : Int(a.typed(Int32.self)[0])
                    if axis < 0 { axis += rank }
                    if axis < 0 || axis >= rank {
                        y.update(from: x, count: count)
                        return
                    }
                    var outer = 1, inner = 1
                    for d in 0..<axis { outer *= shape[d] }
                    for d in (axis + 1)..<rank { inner *= shape[d] }
                    let n = shape[axis]
                    if n == 0 || inner == 0 { return }
                    // Whole rows of `inner` elements at a time: y[t] = y[prev] + x[t] (x[prev] when exclusive).
                    for p in 0..<outer {
                        let xs = x + p * n * inner, ys = y + p * n * inner
                        let first = reverse ? n - 1 : 0
                        for j in 0..<inner { ys[first * inner + j] = exclusive ? ar.zero : xs[first * inner + j] }
                        for s in 1..<Swift.max(n, 1) {
                            let t = reverse ? n - 1 - s : s, prev = reverse ? t + 1 : t - 1
                            let from = (exclusive ? prev : t) * inner
                            for j in 0..<inner { ys[t * inner + j] = ar.add(ys[prev * inner + j], xs[from + j]) }
                        }
                    }
                }
            }
        }
        switch type {
        case .float32: return make(floatArithmetic(Float.self))
        case .float64: return make(floatArithmetic(Double.self))
        case .float16: return make(floatArithmetic(Float16.self))
        case .bfloat16: return make(bfloat16Arithmetic)
        case .int32: return make(integerArithmetic(Int32.self))
        case .int64: return make(integerArithmetic(Int64.self))
        case .uint32: return make(integerArithmetic(UInt32.self))
        case .uint64: return make(integerArithmetic(UInt64.self))
        default: throw ctx.unsupported("CumSum of \(type.name)")
        }
    }

    /// Element k of an index-like tensor of any numeric type as an Int; nil for NaN, infinities and values
    /// too large to be an index.
    @inline(__always)
    static func indexValue(_ v: TensorView, _ k: Int) -> Int? {
        switch v.type {
        case .int64: return Int(truncatingIfNeeded: v.i64[k])
        case .int32: return Int(v.typed(Int32.self)[k])
        default:
            let d = elementAsDouble(v, k)
            return d.isFinite && d.magnitude < 9.0e15 ? Int(d) : nil
        }
    }

    /// OneHot: output = indices' shape with `depth` inserted at `axis`, holding values[1] where the
    /// index (negative counts from depth) selects the position and values[0] elsewhere. Depth sets the
    /// shape, so it must be known at plan time.
    static func oneHot(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let indices = try ctx.shape(0)
        let indexType = try ctx.input(0).type
        if indexType == .string || indexType == .bool { throw ctx.unsupported("indices of type \(indexType.name)") }
        let depthTensor = try ctx.constant(1)
        if depthTensor.count != 1 { throw ctx.shapeError("OneHot: depth must hold one value") }
        let depthValue = depthTensor.scalarAsDouble(0)
        guard depthValue.isFinite, depthValue >= 1, depthValue < Double(Int32.max) else {
            throw ctx.shapeError("OneHot: depth \(depthValue) is not a positive size")
        }
        let depth = Int(depthValue)
        let type = try ctx.input(2).type
        let size = try denseByteSize(ctx, type)
        if try shapeCount(ctx.shape(2)) != 2 { throw ctx.shapeError("OneHot: values must hold [off, on]") }
        let rank = indices.count + 1
        let a = ctx.node.int("axis", default: -1)
        let axis = a < 0 ? a + rank : a
        if axis < 0 || axis >= rank { throw ctx.shapeError("OneHot: axis \(a) is out of range for output rank \(rank)") }
        let out = Array(indices[0..<axis]) + [depth] + Array(indices[axis...])
        let outer = shapeCount(Array(indices[0..<axis]))
        let inner = shapeCount(Array(indices[axis...]))
        let total = shapeCount(out)
        return OpBuild(type, out) { i, o in
            let idx = i[0]!, values = i[2]!.data, dst = o[0].data
            return {
                for k in 0..<total { (dst + k * size).copyMemory(from: values, byteCount: size) }
                for p in 0..<outer {
                    for j in 0..<inner {
                        guard var v = indexValue(idx, p * inner + j) else { continue }
                        if v < 0 { v += depth }
                        if v < 0 || v >= depth { continue }
                        (dst + ((p * depth + v) * inner + j) * size).copyMemory(from: values + size, byteCount: size)
                    }
                }
            }
        }
    }

    /// IsInf (with detect_positive / detect_negative) and IsNaN: floating inputs to bool.
    static func classify(_ ctx: OpContext, nan: Bool) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.requireType(0, [.float32, .float64, .float16, .bfloat16])
        let shape = try ctx.shape(0)
        let n = shapeCount(shape)
        let positive = ctx.node.int("detect_positive", default: 1) != 0
        let negative = ctx.node.int("detect_negative", default: 1) != 0
        func make<T: NumericElement>(_: T.Type) -> OpBuild {
            OpBuild(.bool, shape) { i, o in
                let x = i[0]!.typed(T.self), y = o[0].typed(UInt8.self)
                if nan { return { for k in 0..<n { y[k] = x[k].doubleValue.isNaN ? 1 : 0 } } }
                return {
                    for k in 0..<n {
                        let v = x[k].doubleValue
                        y[k] = (positive && v == .infinity) || (negative && v == -.infinity) ? 1 : 0
                    }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .float16: return make(Float16.self)
        default: return make(BFloat16Element.self)
        }
    }

    /// EyeLike: a 2-D tensor of the input's shape (type from `dtype`, else the input's) with ones on the
    /// k-th diagonal. Reads nothing of the input but its shape.
    static func eyeLike(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let shape = try ctx.shape(0)
        if shape.count != 2 { throw ctx.shapeError("EyeLike needs a 2-D input, got \(describeShape(shape))") }
        var type = try ctx.input(0).type
        if let code = ctx.node.int("dtype") {
            guard let t = ElementType(rawValue: Int32(truncatingIfNeeded: code)) else {
                throw ctx.unsupported("dtype \(elementTypeName(Int32(truncatingIfNeeded: code)))")
            }
            type = t
        }
        let size = try denseByteSize(ctx, type)
        let k = ctx.node.int("k", default: 0)
        let rows = shape[0], cols = shape[1]
        return OpBuild(type, shape) { _, o in
            let dst = o[0].data
            // Owned by the kernel: the build may be gone when it runs.
            let one = scalarTensor(type, 1)
            return {
                dst.initializeMemory(as: UInt8.self, repeating: 0, count: rows * cols * size)
                for r in 0..<rows {
                    let c = r + k
                    if c >= 0 && c < cols { (dst + (r * cols + c) * size).copyMemory(from: one.raw, byteCount: size) }
                }
            }
        }
    }

    /// BitShift of unsigned integers with broadcasting; shifting by the bit width or more gives 0.
    static func bitShift(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.requireType(0, [.uint8, .uint16, .uint32, .uint64])
        if try ctx.input(1).type != type { throw ctx.unsupported("inputs have different element types") }
        let direction = ctx.node.string("direction") ?? ""
        if direction != "LEFT" && direction != "RIGHT" {
            throw ctx.shapeError("BitShift needs direction LEFT or RIGHT, got '\(direction)'")
        }
        let left = direction == "LEFT"
        let (plan, out) = try Elementwise.binaryShape(ctx)
        func make<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> OpBuild {
            OpBuild(type, out) { i, o in
                let a = i[0]!.typed(T.self), b = i[1]!.typed(T.self), y = o[0].typed(T.self)
                // Swift's smart shifts already give 0 for over-wide shift amounts.
                if left { return { broadcastBinary(a, b, y, plan) { $0 << $1 } } }
                return { broadcastBinary(a, b, y, plan) { $0 >> $1 } }
            }
        }
        switch type {
        case .uint8: return make(UInt8.self)
        case .uint16: return make(UInt16.self)
        case .uint32: return make(UInt32.self)
        default: return make(UInt64.self)
        }
    }
}
