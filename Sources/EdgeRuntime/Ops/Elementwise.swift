// Binary and variadic elementwise operators with numpy broadcasting: arithmetic, comparisons, logic.
import CEdgeShim

enum Elementwise {
    enum Arithmetic { case add, sub, mul, div, pow, max, min, mod }

    static func binaryShape(_ ctx: OpContext) throws(ModelLoadError) -> (BroadcastPlan, [Int]) {
        let a = try ctx.shape(0), b = try ctx.shape(1)
        guard let out = broadcastShapes([a, b]) else {
            throw ctx.shapeError("shapes \(describeShape(a)) and \(describeShape(b)) do not broadcast")
        }
        return (BroadcastPlan(operands: [a, b], out: out), out)
    }

    static func arithmetic(_ ctx: OpContext, _ op: Arithmetic) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        if op == .pow {
            return try power(ctx)
        }
        if try ctx.input(1).type != type {
            throw ctx.unsupported("inputs have different element types (\(type.name), \(try ctx.input(1).type.name))")
        }
        let (plan, out) = try binaryShape(ctx)
        if op == .mod && ctx.node.int("fmod", default: 0) == 0 && type.isFloatingPoint {
            throw ctx.shapeError("Mod of floating-point tensors needs fmod=1")
        }
        let fmod = ctx.node.int("fmod", default: 0) == 1
        switch type {
        case .float32:
            return OpBuild(type, out) { i, o in
                let a = i[0]!.f32, b = i[1]!.f32, y = o[0].f32
                switch op {
                case .add:
                    // Same-shape operands (residual adds): the C loop, split over the kernel threads when large.
                    if plan.trivial && plan.full[0] && plan.full[1] {
                        let n = shapeCount(plan.outShape)
                        return { cedge_add_f32(n, a, b, y) }
                    }
                    return { broadcastBinary(a, b, y, plan) { $0 + $1 } }
                case .sub: return { broadcastBinary(a, b, y, plan) { $0 - $1 } }
                case .mul: return { broadcastBinary(a, b, y, plan) { $0 * $1 } }
                case .div: return { broadcastBinary(a, b, y, plan) { $0 / $1 } }
                case .max: return { broadcastBinary(a, b, y, plan) { ($0.isNaN || $1.isNaN) ? Float.nan : Swift.max($0, $1) } }
                case .min: return { broadcastBinary(a, b, y, plan) { ($0.isNaN || $1.isNaN) ? Float.nan : Swift.min($0, $1) } }
                case .mod: return { broadcastBinary(a, b, y, plan) { cedge_fmodf($0, $1) } }
                case .pow: return {}
                }
            }
        case .float64: return try typedArithmetic(ctx, Double.self, op, plan, out, fmod: fmod)
        case .int32: return try typedInteger(ctx, Int32.self, op, plan, out)
        case .int64: return try typedInteger(ctx, Int64.self, op, plan, out)
        case .int8: return try typedInteger(ctx, Int8.self, op, plan, out)
        case .uint8: return try typedInteger(ctx, UInt8.self, op, plan, out)
        case .int16: return try typedInteger(ctx, Int16.self, op, plan, out)
        case .uint16: return try typedInteger(ctx, UInt16.self, op, plan, out)
        case .uint32: return try typedInteger(ctx, UInt32.self, op, plan, out)
        case .uint64: return try typedInteger(ctx, UInt64.self, op, plan, out)
        default: throw ctx.unsupported("element type \(type.name)")
        }
    }

    /// FloatFusion's Add -> Relu: max(a + b, 0), NaN -> 0 as the Relu op gives it.
    static func addRelu(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let ta = try ctx.input(0).type, tb = try ctx.input(1).type
        if ta != .float32 || tb != .float32 {
            throw ctx.unsupported("fused Add -> Relu of non-float32 inputs")
        }
        let (plan, out) = try binaryShape(ctx)
        return OpBuild(.float32, out) { i, o in
            let a = i[0]!.f32, b = i[1]!.f32, y = o[0].f32
            if plan.trivial && plan.full[0] && plan.full[1] {
                let n = shapeCount(plan.outShape)
                return { cedge_add_relu_f32(n, a, b, y) }
            }
            return { broadcastBinary(a, b, y, plan) { let v = $0 + $1; return v > 0 ? v : 0 } }
        }
    }

    static func typedArithmetic<T: BinaryFloatingPoint>(_ ctx: OpContext, _: T.Type, _ op: Arithmetic, _ plan: BroadcastPlan,
                                                        _ out: [Int], fmod: Bool) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        if op == .mod { throw ctx.unsupported("Mod of \(type.name)") }
        return OpBuild(type, out) { i, o in
            let a = i[0]!.typed(T.self), b = i[1]!.typed(T.self), y = o[0].typed(T.self)
            switch op {
            case .add: return { broadcastBinary(a, b, y, plan) { $0 + $1 } }
            case .sub: return { broadcastBinary(a, b, y, plan) { $0 - $1 } }
            case .mul: return { broadcastBinary(a, b, y, plan) { $0 * $1 } }
            case .div: return { broadcastBinary(a, b, y, plan) { $0 / $1 } }
            case .max: return { broadcastBinary(a, b, y, plan) { Swift.max($0, $1) } }
            case .min: return { broadcastBinary(a, b, y, plan) { Swift.min($0, $1) } }
            case .mod, .pow: return {}
            }
        }
    }

    static func typedInteger<T: FixedWidthInteger>(_ ctx: OpContext, _: T.Type, _ op: Arithmetic, _ plan: BroadcastPlan,
                                                   _ out: [Int]) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let fmod = ctx.node.int("fmod", default: 0) == 1
        return OpBuild(type, out) { i, o in
            let a = i[0]!.typed(T.self), b = i[1]!.typed(T.self), y = o[0].typed(T.self)
            switch op {
            case .add: return { broadcastBinary(a, b, y, plan) { $0 &+ $1 } }
            case .sub: return { broadcastBinary(a, b, y, plan) { $0 &- $1 } }
            case .mul: return { broadcastBinary(a, b, y, plan) { $0 &* $1 } }
            // Integer division truncates toward zero (the ONNX reference casts the true quotient back).
            case .div: return { broadcastBinary(a, b, y, plan) { $1 == 0 ? 0 : $0 / $1 } }
            case .max: return { broadcastBinary(a, b, y, plan) { Swift.max($0, $1) } }
            case .min: return { broadcastBinary(a, b, y, plan) { Swift.min($0, $1) } }
            case .mod:
                if fmod { return { broadcastBinary(a, b, y, plan) { $1 == 0 ? 0 : $0 % $1 } } }
                // Python-style modulo: the result takes the divisor's sign.
                return { broadcastBinary(a, b, y, plan) { x, m in
                    if m == 0 { return 0 }
                    let r = x % m
                    return (r != 0 && ((r < 0) != (m < 0))) ? r &+ m : r
                } }
            case .pow: return {}
            }
        }
    }

    /// Pow allows the exponent to have another element type than the base.
    static func power(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let base = try ctx.input(0).type, exponent = try ctx.input(1).type
        let (plan, out) = try binaryShape(ctx)
        let exponentTypes: [ElementType] = [.float32, .float64, .int32, .int64]
        guard exponentTypes.contains(exponent) else { throw ctx.unsupported("exponent of type \(exponent.name)") }
        switch base {
        case .float32, .float64, .int32, .int64: break
        default: throw ctx.unsupported("Pow of \(base.name)")
        }
        // Exponents are converted to the base's type; bases compute in double for integer types.
        return OpBuild(base, out) { i, o in
            let a = i[0]!, b = i[1]!, y = o[0]
            return {
                plan.forEachRow { start, offsets, count, inner in
                    for k in 0..<count {
                        let x = elementAsDouble(a, offsets[0] + k * inner[0])
                        let e = elementAsDouble(b, offsets[1] + k * inner[1])
                        switch base {
                        case .float32: y.f32[start + k] = cedge_powf(Float(x), Float(e))
                        case .float64: y.typed(Double.self)[start + k] = cedge_pow(x, e)
                        case .int32: y.typed(Int32.self)[start + k] = Int32(truncatingIfNeeded: Int64(cedge_pow(x, e)))
                        default: y.i64[start + k] = Int64(cedge_pow(x, e))
                        }
                    }
                }
            }
        }
    }

    enum Comparison { case equal, less, greater, lessOrEqual, greaterOrEqual }

    static func compare(_ ctx: OpContext, _ op: Comparison) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        if try ctx.input(1).type != type { throw ctx.unsupported("inputs have different element types") }
        let (plan, out) = try binaryShape(ctx)
        func make<T: Comparable>(_: T.Type) -> OpBuild {
            OpBuild(.bool, out) { i, o in
                let a = i[0]!.typed(T.self), b = i[1]!.typed(T.self), y = o[0].typed(UInt8.self)
                switch op {
                case .equal: return { broadcastBinary(a, b, y, plan) { $0 == $1 ? 1 : 0 } }
                case .less: return { broadcastBinary(a, b, y, plan) { $0 < $1 ? 1 : 0 } }
                case .greater: return { broadcastBinary(a, b, y, plan) { $0 > $1 ? 1 : 0 } }
                case .lessOrEqual: return { broadcastBinary(a, b, y, plan) { $0 <= $1 ? 1 : 0 } }
                case .greaterOrEqual: return { broadcastBinary(a, b, y, plan) { $0 >= $1 ? 1 : 0 } }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .int32: return make(Int32.self)
        case .int64: return make(Int64.self)
        case .int8: return make(Int8.self)
        case .uint8, .bool: return make(UInt8.self)
        case .int16: return make(Int16.self)
        case .uint16: return make(UInt16.self)
        case .uint32: return make(UInt32.self)
        case .uint64: return make(UInt64.self)
        default: throw ctx.unsupported("element type \(type.name)")
        }
    }

    enum Logic { case and, or, xor }

    static func logic(_ ctx: OpContext, _ op: Logic) throws(ModelLoadError) -> OpBuild {
        _ = try ctx.requireType(0, [.bool])
        _ = try ctx.requireType(1, [.bool])
        let (plan, out) = try binaryShape(ctx)
        return OpBuild(.bool, out) { i, o in
            let a = i[0]!.typed(UInt8.self), b = i[1]!.typed(UInt8.self), y = o[0].typed(UInt8.self)
            switch op {
            case .and: return { broadcastBinary(a, b, y, plan) { ($0 != 0 && $1 != 0) ? 1 : 0 } }
            case .or: return { broadcastBinary(a, b, y, plan) { ($0 != 0 || $1 != 0) ? 1 : 0 } }
            case .xor: return { broadcastBinary(a, b, y, plan) { (($0 != 0) != ($1 != 0)) ? 1 : 0 } }
            }
        }
    }

    /// Sum, Mean, Max, Min over any number of broadcast inputs.
    enum Variadic { case sum, mean, max, min }

    static func variadic(_ ctx: OpContext, _ op: Variadic) throws(ModelLoadError) -> OpBuild {
        let n = ctx.node.inputs.count
        if n == 0 { throw ctx.shapeError("needs at least one input") }
        let type = try ctx.input(0).type
        var shapes: [[Int]] = []
        for k in 0..<n {
            if try ctx.input(k).type != type { throw ctx.unsupported("inputs have different element types") }
            shapes.append(try ctx.shape(k))
        }
        guard let out = broadcastShapes(shapes) else { throw ctx.shapeError("input shapes do not broadcast") }
        let copyPlan = BroadcastPlan(operands: [shapes[0]], out: out)
        let plans = shapes.map { BroadcastPlan(operands: [out, $0], out: out) }
        let count = shapeCount(out)
        func make<T: Comparable>(_: T.Type, add: @escaping (T, T) -> T, isNaN: @escaping (T) -> Bool,
                                 divide: @escaping (T, Int) -> T) -> OpBuild {
            OpBuild(type, out) { i, o in
                let y = o[0].typed(T.self)
                let ins = i.map { $0!.typed(T.self) }
                return {
                    broadcastCopy(ins[0], y, elementSize: MemoryLayout<T>.stride, copyPlan)
                    for k in 1..<ins.count {
                        switch op {
                        case .sum, .mean: broadcastBinary(y, ins[k], y, plans[k], add)
                        case .max: broadcastBinary(y, ins[k], y, plans[k]) { isNaN($0) ? $0 : (isNaN($1) ? $1 : Swift.max($0, $1)) }
                        case .min: broadcastBinary(y, ins[k], y, plans[k]) { isNaN($0) ? $0 : (isNaN($1) ? $1 : Swift.min($0, $1)) }
                        }
                    }
                    if op == .mean { for j in 0..<count { y[j] = divide(y[j], ins.count) } }
                }
            }
        }
        func float<T: BinaryFloatingPoint>(_: T.Type) -> OpBuild {
            make(T.self, add: { $0 + $1 }, isNaN: { $0.isNaN }, divide: { $0 / T($1) })
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws(ModelLoadError) -> OpBuild {
            if op == .mean { throw ctx.unsupported("Mean of \(type.name)") }
            return make(T.self, add: { $0 &+ $1 }, isNaN: { _ in false }, divide: { v, _ in v })
        }
        switch type {
        case .float32: return float(Float.self)
        case .float64: return float(Double.self)
        case .float16: return float(Float16.self)
        case .int8: return try integer(Int8.self)
        case .uint8: return try integer(UInt8.self)
        case .int16: return try integer(Int16.self)
        case .uint16: return try integer(UInt16.self)
        case .int32: return try integer(Int32.self)
        case .uint32: return try integer(UInt32.self)
        case .int64: return try integer(Int64.self)
        case .uint64: return try integer(UInt64.self)
        default: throw ctx.unsupported("element type \(type.name)")
        }
    }

    /// Where(condition, x, y) with three-way broadcasting.
    static func whereSelect(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        _ = try ctx.requireType(0, [.bool])
        let type = try ctx.input(1).type
        if try ctx.input(2).type != type { throw ctx.unsupported("x and y have different element types") }
        let shapes = [try ctx.shape(0), try ctx.shape(1), try ctx.shape(2)]
        guard let out = broadcastShapes(shapes) else { throw ctx.shapeError("input shapes do not broadcast") }
        let plan = BroadcastPlan(operands: shapes, out: out)
        let size = type.byteSize
        if size == 0 { throw ctx.unsupported("element type \(type.name)") }
        return OpBuild(type, out) { i, o in
            let c = i[0]!.typed(UInt8.self), x = i[1]!.data, y = i[2]!.data, z = o[0].data
            return {
                plan.forEachRow { start, offsets, count, inner in
                    for k in 0..<count {
                        let pick = c[offsets[0] + k * inner[0]] != 0
                        let src = pick ? x + (offsets[1] + k * inner[1]) * size : y + (offsets[2] + k * inner[2]) * size
                        (z + (start + k) * size).copyMemory(from: src, byteCount: size)
                    }
                }
            }
        }
    }
}

/// Element i of a view as Double (for mixed-type ops off the hot path).
func elementAsDouble(_ v: TensorView, _ i: Int) -> Double {
    switch v.type {
    case .float32: return Double(v.f32[i])
    case .float64: return v.typed(Double.self)[i]
    case .int32: return Double(v.typed(Int32.self)[i])
    case .int64: return Double(v.i64[i])
    case .int8: return Double(v.typed(Int8.self)[i])
    case .uint8, .bool: return Double(v.typed(UInt8.self)[i])
    case .int16: return Double(v.typed(Int16.self)[i])
    case .uint16: return Double(v.typed(UInt16.self)[i])
    case .uint32: return Double(v.typed(UInt32.self)[i])
    case .uint64: return Double(v.typed(UInt64.self)[i])
    case .float16: return Double(Float(v.typed(Float16.self)[i]))
    default: return 0
    }
}
