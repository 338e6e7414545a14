// The fused residual add QuantizedFusion makes: DQ(a) + DQ(b) [-> Relu] [-> Q] in one pass of cedge_qadd.
import CEdgeShim

enum QuantizedAdd {
    typealias Slot = QuantizedFusion.AddSlot

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let inType = try ctx.requireType(Slot.a, [.uint8, .int8])
        if try ctx.input(Slot.b).type != inType { throw ctx.shapeError("the two quantized addends differ in type") }
        for z in [Slot.aZero, Slot.bZero] where try ctx.input(z).type != inType {
            throw ctx.shapeError("zero point type does not match the quantized addend")
        }
        let aShape = try ctx.shape(Slot.a), bShape = try ctx.shape(Slot.b)
        guard let outShape = broadcastShapes([aShape, bShape]) else {
            throw ctx.shapeError("cannot broadcast \(describeShape(aShape)) with \(describeShape(bShape))")
        }
        let aScale = try QuantizedConv.positiveScales(ctx, Slot.aScale)[0]
        let bScale = try QuantizedConv.positiveScales(ctx, Slot.bScale)[0]
        let aZero = Int32(try ctx.constant(Slot.aZero).int64s()[0])
        let bZero = Int32(try ctx.constant(Slot.bZero).int64s()[0])
        // Without an output scale the sum stays float (no QuantizeLinear followed the add).
        let requantized = ctx.has(Slot.yScale)
        let yScale = requantized ? try QuantizedConv.positiveScales(ctx, Slot.yScale)[0] : 1
        let yZero = requantized ? Int32(try ctx.constant(Slot.yZero).int64s()[0]) : 0
        let outType = requantized ? try ctx.requireType(Slot.yZero, [.uint8, .int8]) : ElementType.float32
        let relu: Int32 = ctx.node.int("relu", default: 0) != 0 ? 1 : 0
        let n = shapeCount(outShape)
        let inKind = QuantizeOps.kind(inType)!, outKind = QuantizeOps.kind(outType)!
        // Operands that are broadcast are expanded into buffers of the output's size first (rare in CNNs,
        // whose residual adds have equal shapes).
        let expandA = aShape != outShape, expandB = bShape != outShape
        let plan = BroadcastPlan(operands: [aShape], out: outShape), planB = BroadcastPlan(operands: [bShape], out: outShape)
        return OpBuild(outType, outShape) { i, o in
            let bufA: TensorBuffer? = expandA ? TensorBuffer(byteCount: max(n, 1)) : nil
            let bufB: TensorBuffer? = expandB ? TensorBuffer(byteCount: max(n, 1)) : nil
            let a = UnsafeRawPointer(i[Slot.a]!.data), b = UnsafeRawPointer(i[Slot.b]!.data), y = o[0].data
            return {
                var pa = a, pb = b
                if let bufA {
                    broadcastCopy(a, bufA.pointer, elementSize: 1, plan)
                    pa = UnsafeRawPointer(bufA.pointer)
                }
                if let bufB {
                    broadcastCopy(b, bufB.pointer, elementSize: 1, planB)
                    pb = UnsafeRawPointer(bufB.pointer)
                }
                cedge_qadd(n, inKind, pa, aScale, aZero, pb, bScale, bZero, relu, outKind, yScale, yZero, y)
            }
        }
    }
}
