// Plan-time rewrite of fp32 Conv [-> BatchNormalization] [-> Relu/Clip] chains into one fused node, so the
// activation is written once instead of three times. The BatchNormalization is folded into the conv's
// epilogue at run time from the live parameters (patches write them in place), never into the weights.

enum FloatFusion {
    /// Op type of the fused node, in QuantizedFusion.domain (which ONNX files cannot name).
    static let opType = "FusedConv"

    /// Input positions of a fused node (empty name = absent).
    enum Slot {
        static let x = 0, w = 1, bias = 2, gamma = 3, beta = 4, mean = 5, variance = 6
        static let count = 7
    }

    /// `keep`: values that must stay visible (observed intermediates), so no chain is fused across them.
    static func rewrite(_ graph: Graph, keep: Set<String> = []) -> Graph {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for out in node.outputs where !out.isEmpty { producer[out] = i }
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        let visible = keep.union(graph.outputs.map { $0.name })
        let initializers = graph.initializers

        /// The standard-domain node that alone reads `name`, when nothing else needs to see it.
        func soleConsumer(_ name: String) -> Int? {
            guard !visible.contains(name), let c = consumers[name], c.count == 1 else { return nil }
            let n = graph.nodes[c[0]]
            return n.domain.isEmpty && n.inputs.first == name && n.outputs.count == 1 ? c[0] : nil
        }
        func floatScalar(_ name: String) -> Float? {
            guard let t = initializers[name], t.type == .float32, t.count == 1 else { return nil }
            return t.floats()[0]
        }
        func isDequantized(_ name: String?) -> Bool {
            guard let name, let p = producer[name] else { return false }
            return graph.nodes[p].opType == "DequantizeLinear"
        }

        var nodes = graph.nodes
        var removed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.opType == "Conv" {
            guard node.outputs.count == 1, node.input(0) != nil, node.input(1) != nil else { continue }
            // A Conv over dequantized int8 weights belongs to a QDQ model that QuantizedFusion left alone (or was
            // told to): it stays the plain dequantize -> fp32 -> quantize reference.
            if isDequantized(node.input(1)) { continue }

            var chain: [Int] = []
            var current = node.outputs[0]
            var bn: Node? = nil
            var activation = QuantizedFusion.Activation.none
            var clipMin = -Float.infinity, clipMax = Float.infinity
            if let c = soleConsumer(current), graph.nodes[c].opType == "BatchNormalization" {
                let n = graph.nodes[c]
                let params = (1...4).map { n.input($0) ?? "" }
                // Inference form with per-channel initializer parameters (opset < 9 "spatial = 0" is per cell).
                if n.int("training_mode", default: 0) == 0, n.int("spatial", default: 1) == 1,
                   params.allSatisfy({ initializers[$0]?.type == .float32 }) {
                    bn = n
                    chain.append(c)
                    current = n.outputs[0]
                }
            }
            if let c = soleConsumer(current) {
                let n = graph.nodes[c]
                if n.opType == "Relu" {
                    activation = QuantizedFusion.Activation.relu
                } else if n.opType == "Clip" {
                    if n.opsetVersion < 11 {
                        clipMin = n.float("min", default: -Float.infinity)
                        clipMax = n.float("max", default: Float.infinity)
                        activation = QuantizedFusion.Activation.clip
                    } else {
                        // Only bounds known now; a computed bound is left to the Clip op.
                        let lo = n.input(1), hi = n.input(2)
                        if (lo == nil || floatScalar(lo!) != nil) && (hi == nil || floatScalar(hi!) != nil) {
                            if let lo { clipMin = floatScalar(lo)! }
                            if let hi { clipMax = floatScalar(hi)! }
                            activation = QuantizedFusion.Activation.clip
                        }
                    }
                }
                if activation != QuantizedFusion.Activation.none {
                    chain.append(c)
                    current = n.outputs[0]
                }
            }
            if chain.isEmpty { continue }

            var inputs = [String](repeating: "", count: Slot.count)
            inputs[Slot.x] = node.inputs[0]
            inputs[Slot.w] = node.inputs[1]
            inputs[Slot.bias] = node.input(2) ?? ""
            nodes[index] = QuantizedFusion.fusedNode(opType, node, inputs: inputs, gammaSlot: Slot.gamma, bn: bn, activation: activation,
                                                     clipMin: clipMin, clipMax: clipMax, output: current)
            for c in chain { removed.insert(c) }
        }
        if removed.isEmpty { return graph }
        var result = graph
        result.nodes = []
        for (i, n) in nodes.enumerated() where !removed.contains(i) { result.nodes.append(n) }
        return result
    }
}
