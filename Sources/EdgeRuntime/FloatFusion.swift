// Plan-time rewrite of fp32 Conv [-> BatchNormalization] [-> Relu/Clip] chains into one fused node, so the
// activation is written once instead of three times. A residual Add [-> Relu] that alone reads a fused conv's
// output joins that conv's epilogue (ResNet's block end: no pass of its own); where it cannot, Add -> Relu
// after a conv still runs as one pass. A strided conv and a 1x1 conv of the same input (a ResNet block's
// shortcut) become one FusedConvPair node. The
// BatchNormalization is folded into the conv's epilogue at run time from the live parameters (patches write
// them in place), never into the weights.

enum FloatFusion {
    /// Op type of the fused node, in QuantizedFusion.domain (which ONNX files cannot name).
    static let opType = "FusedConv"
    /// Op type of a fused Add -> Relu (fp32: one of its operands is a conv's output).
    static let addReluOpType = "FusedAddRelu"

    /// Input positions of a fused node (empty name = absent). `residual`, an optional eighth input, is the other
    /// operand of a residual Add joined into the epilogue (attribute `residual_relu`: 1 when its Relu joined too).
    enum Slot {
        static let x = 0, w = 1, bias = 2, gamma = 3, beta = 4, mean = 5, variance = 6
        static let count = 7
        static let residual = 7
    }
    static let residualReluAttribute = "residual_relu"

    /// The (main, shortcut) order of two fused convs of one input when one is an unpadded 1x1 conv and both
    /// have the same strides, strided along the width, ungrouped and with explicit pads; whether they really
    /// share a pass is the kernels' call at run time (cedge_conv_f32_pair).
    static func shortcutPair(_ p: Node, _ q: Node, _ graph: Graph) -> (Int, Int)? {
        func pointwise(_ n: Node) -> Bool {
            guard let w = graph.initializers[n.inputs[Slot.w]], w.shape.count == 4 else { return false }
            return w.shape[2] == 1 && w.shape[3] == 1 && (n.ints("pads") ?? []).allSatisfy { $0 == 0 }
        }
        for n in [p, q] {
            if n.int("group", default: 1) != 1 { return nil }
            if case .string(let pad)? = n.attributes["auto_pad"], pad != "NOTSET" { return nil }
        }
        let strides = p.ints("strides") ?? [1, 1]
        guard strides == (q.ints("strides") ?? [1, 1]), strides.count == 2, strides[1] > 1 else { return nil }
        if pointwise(q) && !pointwise(p) { return (0, 1) }
        if pointwise(p) && !pointwise(q) { return (1, 0) }
        return nil
    }

    /// `keep`: values that must stay visible (observed intermediates), so no chain is fused across them.
    static func rewrite(_ graph: Graph, keep: Set<String> = []) -> Graph {
        let uses = FusionGraph(graph, keep: keep)
        func isDequantized(_ name: String?) -> Bool {
            guard let name, let p = uses.producer[name] else { return false }
            return graph.nodes[p].opType == "DequantizeLinear"
        }

        var nodes = graph.nodes
        var removed = Set<Int>()
        var fusedOutputs = Set<String>()   // float32: what the fused convs write
        var fusedConvs: [Int] = []
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.opType == "Conv" {
            guard node.outputs.count == 1, node.input(0) != nil, node.input(1) != nil else { continue }
            // A Conv over dequantized int8 weights belongs to a QDQ model that QuantizedFusion left alone (or was
            // told to): it stays the plain dequantize -> fp32 -> quantize reference.
            if isDequantized(node.input(1)) { continue }

            let e = uses.epilogue(after: node.outputs[0])
            if e.chain.isEmpty { continue }

            var inputs = [String](repeating: "", count: Slot.count)
            inputs[Slot.x] = node.inputs[0]
            inputs[Slot.w] = node.inputs[1]
            inputs[Slot.bias] = node.input(2) ?? ""
            nodes[index] = QuantizedFusion.fusedNode(opType, node, inputs: inputs, gammaSlot: Slot.gamma, epilogue: e)
            for c in e.chain { removed.insert(c) }
            fusedOutputs.insert(e.output)
            fusedConvs.append(index)
        }
        // Shortcut pairs: the pair takes the first one's place (its inputs are all there by then).
        var byInput: [String: [Int]] = [:]
        for c in fusedConvs { byInput[nodes[c].inputs[Slot.x], default: []].append(c) }
        for c in fusedConvs {
            guard let group = byInput[nodes[c].inputs[Slot.x]], group.count == 2, group[0] == c,
                  let (m, s) = shortcutPair(nodes[group[0]], nodes[group[1]], graph) else { continue }
            nodes[c] = FusedConvPair.node(main: nodes[group[m]], shortcut: nodes[group[s]])
            removed.insert(group[1])
        }
        // Residual joins: Add [-> Relu] whose operand is a fused conv's output read by nothing else. The conv takes
        // the other operand as its residual input and the Add's (or Relu's) output as its own. Of two such
        // operands the later conv joins (the earlier one's output is then the residual). Shortcut pairs are
        // not joined (the pair kernel has no residual).
        var fusedBy: [String: Int] = [:]
        for c in fusedConvs where !removed.contains(c) && nodes[c].opType == opType { fusedBy[nodes[c].outputs[0]] = c }
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.opType == "Add" {
            guard node.inputs.count == 2, node.outputs.count == 1, !removed.contains(index) else { continue }
            var relu = uses.soleConsumer(node.outputs[0])
            if let r = relu, graph.nodes[r].opType != "Relu" || removed.contains(r) { relu = nil }
            let joinable = (0..<2).compactMap { p -> (conv: Int, operand: Int)? in
                let name = node.inputs[p]
                guard let c = fusedBy[name], !uses.visible.contains(name), uses.consumers[name] == [index] else { return nil }
                return (c, p)
            }
            if let join = joinable.max(by: { $0.conv < $1.conv }) {
                var conv = nodes[join.conv]
                conv.inputs.append(node.inputs[1 - join.operand])
                conv.attributes[residualReluAttribute] = .int(relu == nil ? 0 : 1)
                conv.outputs = [relu.map { graph.nodes[$0].outputs[0] } ?? node.outputs[0]]
                nodes[join.conv] = conv
                removed.insert(index)
                if let relu { removed.insert(relu) }
                continue
            }
            // Add -> Relu behind a conv whose output something else reads too: one pass over the tensor.
            guard let relu, node.inputs.contains(where: { fusedOutputs.contains($0) }) else { continue }
            nodes[index] = Node(opType: addReluOpType, domain: QuantizedFusion.domain, name: node.name,
                                inputs: node.inputs, outputs: graph.nodes[relu].outputs, attributes: [:],
                                opsetVersion: node.opsetVersion)
            removed.insert(relu)
        }
        if removed.isEmpty { return graph }
        var result = graph
        result.nodes = []
        for (i, n) in nodes.enumerated() where !removed.contains(i) { result.nodes.append(n) }
        return result
    }
}
