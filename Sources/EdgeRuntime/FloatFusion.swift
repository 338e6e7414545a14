// Plan-time rewrite of fp32 Conv [-> BatchNormalization] [-> Relu/Clip] chains into one fused node, so the
// activation is written once instead of three times, and of Add -> Relu after a conv into one pass. The BatchNormalization is folded into the conv's
// epilogue at run time from the live parameters (patches write them in place), never into the weights.

enum FloatFusion {
    /// Op type of the fused node, in QuantizedFusion.domain (which ONNX files cannot name).
    static let opType = "FusedConv"
    /// Op type of a fused Add -> Relu (fp32: one of its operands is a conv's output).
    static let addReluOpType = "FusedAddRelu"

    /// Input positions of a fused node (empty name = absent).
    enum Slot {
        static let x = 0, w = 1, bias = 2, gamma = 3, beta = 4, mean = 5, variance = 6
        static let count = 7
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
        }
        // Add -> Relu behind a conv (ResNet's residual join): one pass over the tensor instead of two.
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.opType == "Add" {
            guard node.inputs.count == 2, node.outputs.count == 1, !removed.contains(index),
                  node.inputs.contains(where: { fusedOutputs.contains($0) }),
                  let relu = uses.soleConsumer(node.outputs[0]), graph.nodes[relu].opType == "Relu",
                  !removed.contains(relu) else { continue }
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
