// ONNX QuantizeLinear and DequantizeLinear (per-tensor and per-axis, int8/uint8, int32 for dequantize):
// the fallback path of QDQ models around every operator the int8 fusion does not cover.
import CEdgeShim

enum QuantizeOps {
    /// The C kernels' code for a quantized element type, or nil when it is not supported.
    static func kind(_ type: ElementType) -> Int32? {
        switch type {
        case .uint8: return Int32(CEDGE_Q_UINT8.rawValue)
        case .int8: return Int32(CEDGE_Q_INT8.rawValue)
        case .int32: return 3
        case .float32: return Int32(CEDGE_Q_FLOAT32.rawValue)   // a fused add's float output
        default: return nil
        }
    }

    /// [outer, axis length, inner] of x for a scale of `scaleShape` along `axis` (per-tensor: axis length 1).
    static func axisView(_ ctx: OpContext, x: [Int], scaleShape: [Int]) throws(ModelLoadError) -> (Int, Int, Int) {
        let n = shapeCount(x)
        if shapeCount(scaleShape) == 1 && scaleShape.count <= 1 { return (1, 1, n) }
        if scaleShape.count != 1 {
            throw ctx.unsupported("scale of shape \(describeShape(scaleShape)): only scalars and 1-D per-axis scales are supported (no blocked quantization)")
        }
        let axis = try ctx.axis(ctx.node.int("axis", default: 1), rank: x.count)
        if x[axis] != scaleShape[0] {
            throw ctx.shapeError("scale has \(scaleShape[0]) entries, axis \(axis) of the input has \(x[axis])")
        }
        var outer = 1
        for d in x[..<axis] { outer *= d }
        return (outer, x[axis], n / max(outer * x[axis], 1))
    }

    /// Scales known when preparing must be positive and finite: a zero scale would divide by zero.
    static func checkScale(_ ctx: OpContext) throws(ModelLoadError) {
        if try ctx.input(1).type != .float32 { throw ctx.unsupported("scale must be float32") }
        guard let s = try ctx.input(1).constant else { return }
        for v in s.floats() where !(v > 0 && v.isFinite) {
            throw .invalidTensor(tensor: ctx.node.inputs[1], reason: "quantization scale \(v) is not a positive finite number")
        }
    }

    static func zeroPoint(_ ctx: OpContext, scaleShape: [Int], allowed: [ElementType]) throws(ModelLoadError) -> ElementType? {
        guard ctx.has(2) else { return nil }
        let z = try ctx.input(2)
        if !allowed.contains(z.type) {
            throw ctx.unsupported("zero point of element type \(z.type.name) (supported: uint8, int8\(allowed.contains(.int32) ? ", int32" : ""))")
        }
        if shapeCount(z.shape) != shapeCount(scaleShape) {
            throw ctx.shapeError("zero point has \(shapeCount(z.shape)) entries, scale has \(shapeCount(scaleShape))")
        }
        return z.type
    }

    static func quantize(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        try checkScale(ctx)
        let x = try ctx.shape(0), scaleShape = try ctx.shape(1)
        let (outer, axisLen, inner) = try axisView(ctx, x: x, scaleShape: scaleShape)
        var outType: ElementType = .uint8
        if let z = try zeroPoint(ctx, scaleShape: scaleShape, allowed: [.uint8, .int8]) {
            outType = z
        } else if let code = ctx.node.int("output_dtype"), code != 0 {
            guard let t = ElementType(rawValue: Int32(truncatingIfNeeded: code)), t == .uint8 || t == .int8 else {
                throw ctx.unsupported("output_dtype \(elementTypeName(Int32(truncatingIfNeeded: code))) (supported: uint8, int8)")
            }
            outType = t
        }
        let kind = kind(outType)!
        let hasZero = ctx.has(2)
        return OpBuild(outType, x) { i, o in
            let xp = i[0]!.f32, sp = i[1]!.f32, zp = hasZero ? UnsafeRawPointer(i[2]!.data) : nil, yp = o[0].data
            return { cedge_quantize_linear(kind, outer, axisLen, inner, xp, sp, zp, yp) }
        }
    }

    static func dequantize(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let inType = try ctx.requireType(0, [.uint8, .int8, .int32])
        try checkScale(ctx)
        let x = try ctx.shape(0), scaleShape = try ctx.shape(1)
        let (outer, axisLen, inner) = try axisView(ctx, x: x, scaleShape: scaleShape)
        if let z = try zeroPoint(ctx, scaleShape: scaleShape, allowed: [.uint8, .int8, .int32]), z != inType {
            throw ctx.shapeError("zero point is \(z.name) but the input is \(inType.name); they must match")
        }
        let kind = kind(inType)!
        let hasZero = ctx.has(2)
        return OpBuild(.float32, x) { i, o in
            let xp = UnsafeRawPointer(i[0]!.data), sp = i[1]!.f32, zp = hasZero ? UnsafeRawPointer(i[2]!.data) : nil
            let yp = o[0].f32
            return { cedge_dequantize_linear(kind, outer, axisLen, inner, xp, sp, zp, yp) }
        }
    }
}
