// Elementwise unary operators and activations (float32; Neg/Abs/Sign also on integers).
import CEdgeShim

enum Unary {
    /// A float32 map y = f(x) over the whole tensor.
    static func map(_ ctx: OpContext, _ f: @escaping (Float) -> Float) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        let shape = try ctx.shape(0)
        let n = shapeCount(shape)
        return OpBuild(.float32, shape) { i, o in
            let x = i[0]!.f32, y = o[0].f32
            return { for k in 0..<n { y[k] = f(x[k]) } }
        }
    }

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let node = ctx.node
        switch node.opType {
        case "Relu":
            if try ctx.input(0).type != .float32 { return try integerMap(ctx) { Swift.max($0, 0) } }
            // A plain loop the compiler vectorises (through `map`'s closure, one call per element, Relu took a
            // quarter of a small CNN's run time), in C so large tensors are split over the kernel threads.
            let shape = try ctx.shape(0), n = shapeCount(shape)
            return OpBuild(.float32, shape) { i, o in
                let x = i[0]!.f32, y = o[0].f32
                return { cedge_relu_f32(n, x, y) }
            }
        case "LeakyRelu":
            let alpha = node.float("alpha", default: 0.01)
            return try map(ctx) { $0 >= 0 ? $0 : $0 * alpha }
        case "Elu":
            let alpha = node.float("alpha", default: 1)
            return try map(ctx) { $0 >= 0 ? $0 : alpha * (cedge_expf($0) - 1) }
        case "Celu":
            let alpha = node.float("alpha", default: 1)
            return try map(ctx) { Swift.max(0, $0) + Swift.min(0, alpha * (cedge_expf($0 / alpha) - 1)) }
        case "Selu":
            let alpha = node.float("alpha", default: 1.67326319217681884765625)
            let gamma = node.float("gamma", default: 1.05070102214813232421875)
            return try map(ctx) { $0 > 0 ? gamma * $0 : gamma * (alpha * cedge_expf($0) - alpha) }
        case "ThresholdedRelu":
            let alpha = node.float("alpha", default: 1)
            return try map(ctx) { $0 > alpha ? $0 : 0 }
        case "Sigmoid": return try map(ctx) { sigmoid($0) }
        case "HardSigmoid":
            let alpha = node.float("alpha", default: 0.2), beta = node.float("beta", default: 0.5)
            return try map(ctx) { Swift.max(0, Swift.min(1, alpha * $0 + beta)) }
        case "HardSwish": return try map(ctx) { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) }
        case "Tanh": return try map(ctx) { cedge_tanhf($0) }
        case "Softplus": return try map(ctx) { $0 > 20 ? $0 : cedge_log1pf(cedge_expf($0)) }
        case "Softsign": return try map(ctx) { $0 / (1 + Swift.abs($0)) }
        case "Mish": return try map(ctx) { $0 * cedge_tanhf($0 > 20 ? $0 : cedge_log1pf(cedge_expf($0))) }
        case "Gelu":
            if node.string("approximate") == "tanh" {
                let c: Float = 0.7978845608028654  // sqrt(2 / pi)
                return try map(ctx) { 0.5 * $0 * (1 + cedge_tanhf(c * ($0 + 0.044715 * $0 * $0 * $0))) }
            }
            return try map(ctx) { 0.5 * $0 * (1 + cedge_erff($0 * 0.7071067811865476)) }
        case "Erf": return try map(ctx) { cedge_erff($0) }
        case "Sqrt": return try map(ctx) { cedge_sqrtf($0) }
        case "Exp": return try map(ctx) { cedge_expf($0) }
        case "Log": return try map(ctx) { cedge_logf($0) }
        case "Reciprocal": return try map(ctx) { 1 / $0 }
        case "Floor": return try map(ctx) { $0.rounded(.down) }
        case "Ceil": return try map(ctx) { $0.rounded(.up) }
        case "Round": return try map(ctx) { cedge_nearbyintf($0) }
        case "Sin": return try map(ctx) { cedge_sinf($0) }
        case "Cos": return try map(ctx) { cedge_cosf($0) }
        case "Tan": return try map(ctx) { cedge_tanf($0) }
        case "Asin": return try map(ctx) { cedge_asinf($0) }
        case "Acos": return try map(ctx) { cedge_acosf($0) }
        case "Atan": return try map(ctx) { cedge_atanf($0) }
        case "Sinh": return try map(ctx) { cedge_sinhf($0) }
        case "Cosh": return try map(ctx) { cedge_coshf($0) }
        case "Asinh": return try map(ctx) { cedge_asinhf($0) }
        case "Acosh": return try map(ctx) { cedge_acoshf($0) }
        case "Atanh": return try map(ctx) { cedge_atanhf($0) }
        case "Neg":
            if try ctx.input(0).type != .float32 { return try integerMap(ctx) { 0 &- $0 } }
            return try map(ctx) { -$0 }
        case "Abs":
            if try ctx.input(0).type != .float32 { return try integerMap(ctx) { $0 < 0 ? 0 &- $0 : $0 } }
            return try map(ctx) { Swift.abs($0) }
        case "Sign":
            if try ctx.input(0).type != .float32 { return try integerMap(ctx) { $0 > 0 ? 1 : ($0 < 0 ? 0 &- 1 : 0) } }
            return try map(ctx) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case "Shrink":
            let lambd = node.float("lambd", default: 0.5), bias = node.float("bias", default: 0)
            return try map(ctx) { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) }
        case "Clip": return try clip(ctx)
        case "Not":
            _ = try ctx.requireType(0, [.bool])
            let shape = try ctx.shape(0)
            return OpBuild(.bool, shape) { i, o in
                let x = i[0]!.typed(UInt8.self), y = o[0].typed(UInt8.self), n = shapeCount(shape)
                return { for k in 0..<n { y[k] = x[k] == 0 ? 1 : 0 } }
            }
        default:
            throw ctx.unsupported("")
        }
    }

    /// Neg/Abs/Sign/Relu/Clip on integer tensors, computed in Int64 and stored back in the input's type.
    static func integerMap(_ ctx: OpContext, _ f: @escaping (Int64) -> Int64) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.requireType(0, [.int8, .int16, .int32, .int64])
        let shape = try ctx.shape(0)
        let n = shapeCount(shape)
        return OpBuild(type, shape) { i, o in
            let x = i[0]!, y = o[0]
            return {
                for k in 0..<n {
                    switch type {
                    case .int8: y.typed(Int8.self)[k] = Int8(truncatingIfNeeded: f(Int64(x.typed(Int8.self)[k])))
                    case .int16: y.typed(Int16.self)[k] = Int16(truncatingIfNeeded: f(Int64(x.typed(Int16.self)[k])))
                    case .int32: y.typed(Int32.self)[k] = Int32(truncatingIfNeeded: f(Int64(x.typed(Int32.self)[k])))
                    default: y.i64[k] = f(x.i64[k])
                    }
                }
            }
        }
    }

    /// Clip: bounds from attributes before opset 11, from optional scalar inputs since (read at run time,
    /// so they may be computed by the graph).
    static func clip(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let n = shapeCount(shape)
        for k in 1..<3 where ctx.has(k) {
            if try ctx.input(k).type != type { throw ctx.unsupported("bound #\(k) has another element type than the input") }
            if try shapeCount(ctx.shape(k)) != 1 { throw ctx.shapeError("bound #\(k) must be a scalar") }
        }
        let hasMin = ctx.has(1), hasMax = ctx.has(2)
        if type == .float32 {
            let attrMin = ctx.node.float("min", default: -Float.infinity), attrMax = ctx.node.float("max", default: Float.infinity)
            return OpBuild(.float32, shape) { i, o in
                let x = i[0]!.f32, y = o[0].f32
                let minPointer = hasMin ? i[1]!.f32 : nil, maxPointer = hasMax ? i[2]!.f32 : nil
                return {
                    let lo = minPointer?[0] ?? attrMin, hi = maxPointer?[0] ?? attrMax
                    for k in 0..<n { y[k] = Swift.min(Swift.max(x[k], lo), hi) }
                }
            }
        }
        func integer<T: FixedWidthInteger>(_: T.Type) -> OpBuild {
            OpBuild(type, shape) { i, o in
                let x = i[0]!.typed(T.self), y = o[0].typed(T.self)
                let minPointer = hasMin ? i[1]!.typed(T.self) : nil, maxPointer = hasMax ? i[2]!.typed(T.self) : nil
                return {
                    let lo = minPointer?[0] ?? T.min, hi = maxPointer?[0] ?? T.max
                    for k in 0..<n { y[k] = Swift.min(Swift.max(x[k], lo), hi) }
                }
            }
        }
        switch type {
        case .int8: return integer(Int8.self)
        case .uint8: return integer(UInt8.self)
        case .int16: return integer(Int16.self)
        case .uint16: return integer(UInt16.self)
        case .int32: return integer(Int32.self)
        case .uint32: return integer(UInt32.self)
        case .int64: return integer(Int64.self)
        case .uint64: return integer(UInt64.self)
        default: throw ctx.unsupported("element type \(type.name)")
        }
    }
}

@inline(__always)
func sigmoid(_ x: Float) -> Float {
    // Split by sign so exp never overflows.
    if x >= 0 { return 1 / (1 + cedge_expf(-x)) }
    let e = cedge_expf(x)
    return e / (1 + e)
}
