// Scatter family: ScatterElements (and the deprecated Scatter) and ScatterND, with the optional
// reductions add/mul (opset 16) and max/min (opset 18). The output starts as a copy of data.

enum ScatterOps {
    enum Reduction { case none, add, mul, max, min }

    static func reduction(_ ctx: OpContext) throws(ModelLoadError) -> Reduction {
        switch ctx.node.string("reduction") ?? "none" {
        case "none": return .none
        case "add": return .add
        case "mul": return .mul
        case "max": return .max
        case "min": return .min
        case let other: throw ctx.unsupported("reduction '\(other)' is not supported")
        }
    }

    /// Where each update lands: the scatter kernels visit the updates in order and call `place` with the
    /// update's index and its element offset in the output, or skip it (index out of range).
    /// Duplicate indices are applied in order, so with no reduction the last update wins, as in the reference.
    typealias Walk = (_ indices: TensorView, _ place: (_ update: Int, _ offset: Int) -> Void) -> Void

    /// Builds the kernel for a data type: a byte copy when there is no reduction, else typed arithmetic.
    static func make(_ ctx: OpContext, _ reduction: Reduction, _ walk: @escaping Walk) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        if try ctx.input(2).type != type { throw ctx.unsupported("updates have another element type than data") }
        let shape = try ctx.shape(0)
        let bytes = shapeCount(shape) * size
        func typed<T>(_: T.Type, _ combine: ((T, T) -> T)?) -> OpBuild {
            OpBuild(type, shape) { i, o in
                let data = i[0]!.data, indices = i[1]!, upd = i[2]!.typed(T.self), dst = o[0].data
                let y = dst.assumingMemoryBound(to: T.self)
                return {
                    if dst != data { dst.copyMemory(from: data, byteCount: bytes) }
                    if let combine {
                        walk(indices) { u, at in y[at] = combine(y[at], upd[u]) }
                    } else {
                        walk(indices) { u, at in y[at] = upd[u] }
                    }
                }
            }
        }
        func arithmetic<T>(_ ar: ElementArithmetic<T>) -> OpBuild {
            switch reduction {
            case .none: return typed(T.self, nil)
            case .add: return typed(T.self, ar.add)
            case .mul: return typed(T.self, ar.mul)
            case .max: return typed(T.self, ar.max)
            case .min: return typed(T.self, ar.min)
            }
        }
        if reduction == .none {
            // Plain assignment moves bytes: one kernel per element width serves every type.
            switch size {
            case 1: return typed(UInt8.self, nil)
            case 2: return typed(UInt16.self, nil)
            case 4: return typed(UInt32.self, nil)
            default: return typed(UInt64.self, nil)
            }
        }
        switch type {
        case .float32: return arithmetic(floatArithmetic(Float.self))
        case .float64: return arithmetic(floatArithmetic(Double.self))
        case .float16: return arithmetic(floatArithmetic(Float16.self))
        case .bfloat16: return arithmetic(bfloat16Arithmetic)
        case .int8: return arithmetic(integerArithmetic(Int8.self))
        case .uint8: return arithmetic(integerArithmetic(UInt8.self))
        case .int16: return arithmetic(integerArithmetic(Int16.self))
        case .uint16: return arithmetic(integerArithmetic(UInt16.self))
        case .int32: return arithmetic(integerArithmetic(Int32.self))
        case .uint32: return arithmetic(integerArithmetic(UInt32.self))
        case .int64: return arithmetic(integerArithmetic(Int64.self))
        case .uint64: return arithmetic(integerArithmetic(UInt64.self))
        default: throw ctx.unsupported("\(ctx.node.opType) with a reduction of \(type.name)")
        }
    }

    /// ScatterElements / Scatter: output[..., indices[p], ...] (index replacing the axis coordinate of
    /// position p) = updates[p], or combined with it. indices and updates share a shape of data's rank.
    static func elements(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let data = try ctx.shape(0), indices = try ctx.shape(1), updates = try ctx.shape(2)
        let indexType = try ctx.requireType(1, [.int32, .int64])
        if indices != updates || indices.count != data.count || data.isEmpty {
            throw ctx.shapeError("\(ctx.node.opType): indices \(describeShape(indices)) and updates \(describeShape(updates)) must match, with data \(describeShape(data))'s rank")
        }
        let axis = try ctx.axis(ctx.node.int("axis", default: 0), rank: data.count)
        for d in 0..<data.count where d != axis && indices[d] > data[d] {
            throw ctx.shapeError("\(ctx.node.opType): indices \(describeShape(indices)) exceed data \(describeShape(data)) on axis \(d)")
        }
        // The deprecated Scatter (opsets 9-10) is ScatterElements without reductions.
        let mode = ctx.node.opType == "Scatter" ? .none : try reduction(ctx)
        let dataStrides = stridesOf(data), indexStrides = stridesOf(indices)
        let count = shapeCount(indices), rank = data.count, dim = data[axis]
        let wide = indexType == .int64
        return try make(ctx, mode) { idx, place in
            let p32 = idx.typed(Int32.self), p64 = idx.i64
            for k in 0..<count {
                let j = LayoutOps.index(p32, p64, wide: wide, k, dim)
                if j < 0 { continue }
                // Data offset of update k's position, with the axis coordinate replaced by the index.
                var rest = k, offset = 0
                for d in 0..<rank {
                    let c = rest / indexStrides[d]
                    rest -= c * indexStrides[d]
                    offset += (d == axis ? j : c) * dataStrides[d]
                }
                place(k, offset)
            }
        }
    }

    /// ScatterND: each index tuple (last axis of indices, m <= rank) selects a slice of data that the
    /// matching slice of updates replaces or combines into.
    static func nd(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let data = try ctx.shape(0), indices = try ctx.shape(1), updates = try ctx.shape(2)
        let indexType = try ctx.requireType(1, [.int32, .int64])
        guard let m = indices.last, m <= data.count,
              updates == Array(indices[0..<(indices.count - 1)]) + Array(data[m...]) else {
            throw ctx.shapeError("ScatterND: data \(describeShape(data)), indices \(describeShape(indices)) and updates \(describeShape(updates)) do not fit")
        }
        let mode = try reduction(ctx)
        let tuples = shapeCount(Array(indices[0..<(indices.count - 1)]))
        let slice = shapeCount(Array(data[m...]))
        let strides = stridesOf(data)
        let wide = indexType == .int64
        return try make(ctx, mode) { idx, place in
            let p32 = idx.typed(Int32.self), p64 = idx.i64
            for t in 0..<tuples {
                var offset = 0, valid = true
                for k in 0..<m {
                    let j = LayoutOps.index(p32, p64, wide: wide, t * m + k, data[k])
                    if j < 0 { valid = false; break }
                    offset += j * strides[k]
                }
                if !valid { continue }
                for s in 0..<slice { place(t * slice + s, offset + s) }
            }
        }
    }
}
