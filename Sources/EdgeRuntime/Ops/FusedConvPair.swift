// Two fused convs of one input that FloatFusion joins: a ResNet block's strided conv and its 1x1 shortcut.
// cedge_conv_f32_pair runs them as one pass over the input where the kernels allow it (the shortcut reads one
// tap of the strided conv's window), else one after the other; the outputs are the two convs' either way.
import CEdgeShim

enum FusedConvPair {
    typealias Slot = FloatFusion.Slot
    static let opType = "FusedConvPair"
    /// The shortcut conv's attributes carry this prefix; the main conv's have none.
    static let shortcutPrefix = "shortcut."
    /// Inputs: x, the main conv's slots w...variance, then the shortcut's (no residual slot in either).
    static let count = 1 + 2 * Slot.variance

    /// The shortcut's input position for its FusedConv slot `slot` (w ... variance).
    static func shortcutInput(_ slot: Int) -> Int { Slot.variance + slot }

    /// The pair node: x, then `main`'s inputs, then `shortcut`'s; outputs main's, then shortcut's.
    static func node(main: Node, shortcut: Node) -> Node {
        var inputs = Array(main.inputs[0...Slot.variance])
        inputs += shortcut.inputs[Slot.w...Slot.variance]
        var attributes = main.attributes
        for (key, value) in shortcut.attributes { attributes[shortcutPrefix + key] = value }
        return Node(opType: opType, domain: QuantizedFusion.domain, name: main.name, inputs: inputs,
                    outputs: [main.outputs[0], shortcut.outputs[0]], attributes: attributes,
                    opsetVersion: main.opsetVersion)
    }

    /// Each conv's own FusedConv context (the node's input count checked).
    static func parts(_ ctx: OpContext) -> (main: OpContext, shortcut: OpContext) {
        let node = ctx.node
        var mainAttributes: [String: Attribute] = [:], shortcutAttributes: [String: Attribute] = [:]
        for (key, value) in node.attributes {
            if key.hasPrefix(shortcutPrefix) {
                shortcutAttributes[String(key.dropFirst(shortcutPrefix.count))] = value
            } else {
                mainAttributes[key] = value
            }
        }
        func part(_ positions: [Int], _ output: Int, _ attributes: [String: Attribute]) -> OpContext {
            let n = Node(opType: FloatFusion.opType, domain: QuantizedFusion.domain, name: node.name,
                         inputs: positions.map { node.inputs[$0] }, outputs: [node.outputs[output]],
                         attributes: attributes, opsetVersion: node.opsetVersion)
            return OpContext(node: n, inputs: positions.map { ctx.inputs[$0] })
        }
        let main = Array(0...Slot.variance)
        let shortcut = [Slot.x] + (Slot.w...Slot.variance).map(shortcutInput)
        return (part(main, 0, mainAttributes), part(shortcut, 1, shortcutAttributes))
    }

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        if ctx.node.inputs.count != count || ctx.node.outputs.count != 2 {
            throw ctx.shapeError("a fused conv pair takes \(count) inputs and 2 outputs")
        }
        let (mainCtx, shortcutCtx) = parts(ctx)
        let a = try FusedConvPlan(mainCtx), b = try FusedConvPlan(shortcutCtx)
        return OpBuild(outputs: [(.float32, a.outShape), (.float32, b.outShape)]) { i, o in
            let ia = (0...Slot.variance).map { i[$0] }
            let ib = [i[Slot.x]] + (Slot.w...Slot.variance).map { i[shortcutInput($0)] }
            let xp = i[Slot.x]!.f32, ya = o[0].f32, yb = o[1].f32
            let wa = ia[Slot.w]!.data, wb = ib[Slot.w]!.data
            let fa = a.fold(ia), fb = b.fold(ib)
            let sa = fa.map { UnsafePointer($0.scale) }, sb = fb.map { UnsafePointer($0.scale) }
            let ha = fa.map { UnsafePointer($0.shift) } ?? a.bias(ia), hb = fb.map { UnsafePointer($0.shift) } ?? b.bias(ib)
            var da = a.desc, db = b.desc
            if a.weights.half || b.weights.half {
                // Binary16 weights: the two convs one after the other, as unpaired.
                return {
                    fa?.refresh()
                    fb?.refresh()
                    a.weights.run(&da, xp, wa, sa, ha, ya)
                    b.weights.run(&db, xp, wb, sb, hb, yb)
                }
            }
            return {
                fa?.refresh()
                fb?.refresh()
                withUnsafePointer(to: &da) { dap in
                    withUnsafePointer(to: &db) { dbp in
                        var ja = cedge_conv_job(d: dap, w: UnsafePointer(wa.assumingMemoryBound(to: Float.self)),
                                                packed: UnsafeRawPointer(a.weights.packed?.pointer), scale: sa, shift: ha, y: ya)
                        var jb = cedge_conv_job(d: dbp, w: UnsafePointer(wb.assumingMemoryBound(to: Float.self)),
                                                packed: UnsafeRawPointer(b.weights.packed?.pointer), scale: sb, shift: hb, y: yb)
                        cedge_conv_f32_pair(xp, &ja, &jb)
                    }
                }
            }
        }
    }
}
