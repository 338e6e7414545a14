// Shape queries and shape-only rewrites: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Expand,
// Identity, Dropout, Constant, ConstantOfShape, Range.

enum ShapeOps {
    // MARK: Shape queries

    /// Shape (start/end since opset 15, clamped like slice bounds).
    static func shape(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let dims = try ctx.shape(0)
        let rank = dims.count
        func clamp(_ v: Int) -> Int {
            let r = v < 0 ? v + rank : v
            return min(max(r, 0), rank)
        }
        let start = clamp(ctx.node.int("start", default: 0))
        let end = clamp(ctx.node.int("end", default: rank))
        let picked = start < end ? Array(dims[start..<end]) : []
        return OpBuild(.int64, [picked.count]) { _, o in
            let y = o[0].i64
            return { for (k, d) in picked.enumerated() { y[k] = Int64(d) } }
        }
    }

    static func size(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let n = Int64(shapeCount(try ctx.shape(0)))
        return OpBuild(.int64, []) { _, o in
            let y = o[0].i64
            return { y[0] = n }
        }
    }

    // MARK: Views (output 0 shares input 0's bytes)

    static func view(_ ctx: OpContext, _ shape: [Int]) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        _ = try denseByteSize(ctx, type)
        return OpBuild(outputs: [(type, shape)], aliasesInput0: true, makeKernel: aliasKernel)
    }

    /// Reshape: `shape` attribute before opset 5, input since. 0 copies the input dimension (unless
    /// allowzero=1, opset 14), -1 is inferred.
    static func reshape(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let input = try ctx.shape(0)
        guard let requested = try ctx.intsFromAttributeOrInput("shape", input: 1) else {
            throw ctx.shapeError("Reshape needs a shape (input #1)")
        }
        let allowZero = ctx.node.int("allowzero", default: 0) != 0
        let total = shapeCount(input)
        func fail() -> ModelLoadError {
            ctx.shapeError("Reshape: cannot reshape \(total) elements (shape \(describeShape(input))) into \(describeInts(requested))")
        }
        var out: [Int] = []
        var inferred = -1
        for (i, d) in requested.enumerated() {
            if d == -1 {
                if inferred >= 0 { throw ctx.shapeError("Reshape: more than one -1 in \(describeInts(requested))") }
                inferred = i
                out.append(1)
            } else if d == 0 && !allowZero {
                if i >= input.count { throw fail() }
                out.append(input[i])
            } else if d < 0 {
                throw ctx.shapeError("Reshape: invalid dimension \(d) in \(describeInts(requested))")
            } else {
                out.append(d)
            }
        }
        if inferred >= 0 {
            let known = shapeCount(out)
            if known == 0 || total % known != 0 { throw fail() }
            out[inferred] = total / known
        }
        if shapeCount(out) != total { throw fail() }
        return try view(ctx, out)
    }

    /// Flatten to 2-D around `axis` (default 1; negative since opset 11; axis == rank allowed).
    static func flatten(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let input = try ctx.shape(0)
        let rank = input.count
        let a = ctx.node.int("axis", default: 1)
        let axis = a < 0 ? a + rank : a
        if axis < 0 || axis > rank { throw ctx.shapeError("Flatten: axis \(a) is out of range for rank \(rank)") }
        return try view(ctx, [shapeCount(Array(input[0..<axis])), shapeCount(Array(input[axis...]))])
    }

    /// Squeeze: axes attribute before opset 13, optional input since; without axes every 1 goes.
    static func squeeze(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let input = try ctx.shape(0)
        var out: [Int] = []
        if let given = try ctx.intsFromAttributeOrInput("axes", input: 1) {
            let axes = try ctx.normalizedAxes(given, rank: input.count)
            for a in axes where input[a] != 1 {
                throw ctx.shapeError("Squeeze: dimension \(a) of shape \(describeShape(input)) is \(input[a]), not 1")
            }
            for (i, d) in input.enumerated() where !axes.contains(i) { out.append(d) }
        } else {
            out = input.filter { $0 != 1 }
        }
        return try view(ctx, out)
    }

    /// Unsqueeze: axes attribute before opset 13, input since; axes index the output's dimensions.
    static func unsqueeze(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let input = try ctx.shape(0)
        guard let given = try ctx.intsFromAttributeOrInput("axes", input: 1) else {
            throw ctx.shapeError("Unsqueeze needs axes")
        }
        let rank = input.count + given.count
        let axes = try ctx.normalizedAxes(given, rank: rank)
        var out: [Int] = []
        var next = 0
        for i in 0..<rank {
            if axes.contains(i) {
                out.append(1)
            } else {
                out.append(input[next])
                next += 1
            }
        }
        return try view(ctx, out)
    }

    static func identity(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try view(ctx, try ctx.shape(0))
    }

    /// Dropout at inference is the identity. The optional mask is all true (bool since opset 10; the
    /// input's type before). training_mode=true with a non-zero ratio would need randomness: refused.
    static func dropout(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        _ = try denseByteSize(ctx, type)
        if ctx.has(2) {
            let training = try ctx.constant(2)
            if training.count > 0 && training.scalarAsDouble(0) != 0 {
                let ratio = ctx.has(1) ? try ctx.constant(1).scalarAsDouble(0) : 0.5
                if ratio != 0 { throw ctx.unsupported("training_mode=1 (random dropout) is not supported") }
            }
        }
        if ctx.node.outputs.count < 2 {
            return OpBuild(outputs: [(type, shape)], aliasesInput0: true, makeKernel: aliasKernel)
        }
        let maskType: ElementType = ctx.opset >= 10 ? .bool : type
        let one = scalarTensor(maskType, 1)
        let n = shapeCount(shape), size = maskType.byteSize
        return OpBuild(outputs: [(type, shape), (maskType, shape)], aliasesInput0: true) { i, o in
            let copy = aliasKernel(i, o)
            let mask = o[1].data
            return {
                copy()
                for k in 0..<n { (mask + k * size).copyMemory(from: one.raw, byteCount: size) }
            }
        }
    }

    // MARK: Broadcast

    /// Expand: bidirectional broadcast of the input against a constant shape.
    static func expand(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        let requested = try ctx.constantInts(1)
        guard let out = broadcastShapes([input, requested]) else {
            throw ctx.shapeError("Expand: shape \(describeShape(input)) does not broadcast to \(describeInts(requested))")
        }
        let own = stridesOf(input)
        var strides = [Int](repeating: 0, count: out.count)
        let lead = out.count - input.count
        for (i, d) in input.enumerated() where d != 1 { strides[i + lead] = own[i] }
        let plan = StridedCopy(shape: out, strides: strides, elementSize: size)
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, dst = o[0].data
            return { plan.run(src, dst) }
        }
    }

    // MARK: Constants

    /// Constant: value (tensor), value_float(s), value_int(s). Sparse and string values are refused.
    static func constant(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let node = ctx.node
        let value: Tensor
        if let t = node.tensor("value") {
            value = t
        } else if let f = node.float("value_float") {
            value = Tensor(shape: [], floats: [f])
        } else if let fs = node.floats("value_floats") {
            value = Tensor(shape: [fs.count], floats: fs)
        } else if let i = node.int("value_int") {
            value = Tensor(shape: [], int64s: [Int64(i)])
        } else if let is_ = node.ints("value_ints") {
            value = Tensor(shape: [is_.count], int64s: is_.map { Int64($0) })
        } else if node.attributes["sparse_value"] != nil {
            throw ctx.unsupported("sparse_value constants are not supported")
        } else if node.attributes["value_string"] != nil || node.attributes["value_strings"] != nil {
            throw ctx.unsupported("string constants are not supported")
        } else {
            throw ctx.shapeError("Constant has no value attribute")
        }
        let bytes = value.byteCount
        return OpBuild(value.type, value.shape) { _, o in
            let dst = o[0].data
            return { if bytes > 0 { dst.copyMemory(from: value.raw, byteCount: bytes) } }
        }
    }

    /// ConstantOfShape: a tensor of the (constant) input shape filled with `value` (default float32 0).
    static func constantOfShape(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let shape = try ctx.constantInts(0)
        if shape.contains(where: { $0 < 0 }) { throw ctx.shapeError("ConstantOfShape: negative dimension in \(describeInts(shape))") }
        let value = ctx.node.tensor("value") ?? scalarTensor(.float32, 0)
        if value.count != 1 { throw ctx.shapeError("ConstantOfShape: value must hold one element, it holds \(value.count)") }
        let size = try denseByteSize(ctx, value.type)
        let n = shapeCount(shape)
        return OpBuild(value.type, shape) { _, o in
            let dst = o[0].data
            return { for k in 0..<n { (dst + k * size).copyMemory(from: value.raw, byteCount: size) } }
        }
    }

    /// Range(start, limit, delta): the count needs all three at plan time.
    static func range(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.requireType(0, [.float32, .float64, .int16, .int32, .int64])
        let start = try ctx.constant(0), limit = try ctx.constant(1), delta = try ctx.constant(2)
        if start.type != type || limit.type != type || delta.type != type {
            throw ctx.unsupported("start, limit and delta must share one element type")
        }
        if start.count != 1 || limit.count != 1 || delta.count != 1 {
            throw ctx.shapeError("Range: start, limit and delta must be scalars")
        }
        let n: Int
        if type.isFloatingPoint {
            let s = start.scalarAsDouble(0), l = limit.scalarAsDouble(0), d = delta.scalarAsDouble(0)
            if d == 0 || !d.isFinite || !s.isFinite || !l.isFinite { throw ctx.shapeError("Range: delta must be finite and non-zero") }
            n = max(Int(((l - s) / d).rounded(.up)), 0)
        } else {
            let s = start.int64s()[0], l = limit.int64s()[0], d = delta.int64s()[0]
            if d == 0 { throw ctx.shapeError("Range: delta must be non-zero") }
            // ceil((l - s) / d) in integers
            let span = l - s
            var q = span / d
            if span % d != 0 && ((span < 0) == (d < 0)) { q += 1 }
            n = max(Int(q), 0)
        }
        func make<T: NumericElement>(_: T.Type) -> OpBuild {
            OpBuild(type, [n]) { i, o in
                let s = i[0]!.typed(T.self)[0], d = i[2]!.typed(T.self)[0], y = o[0].typed(T.self)
                return {
                    if T.isFloatingPoint {
                        for k in 0..<n { y[k] = T(double: s.doubleValue + Double(k) * d.doubleValue) }
                    } else {
                        for k in 0..<n { y[k] = T(int64: s.int64Value &+ Int64(k) &* d.int64Value) }
                    }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .int16: return make(Int16.self)
        case .int32: return make(Int32.self)
        default: return make(Int64.self)
        }
    }
}
