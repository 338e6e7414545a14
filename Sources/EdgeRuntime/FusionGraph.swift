// What the fp32 and int8 plan-time fusions share: who produces and who reads each value, and the epilogue a
// convolution's output can absorb (an inference-form BatchNormalization, then Relu or Clip).

struct FusionGraph {
    let graph: Graph
    let producer: [String: Int]
    let consumers: [String: [Int]]
    /// Graph outputs and observed values: no chain is fused across them.
    let visible: Set<String>

    init(_ graph: Graph, keep: Set<String>) {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for out in node.outputs where !out.isEmpty { producer[out] = i }
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        self.graph = graph
        self.producer = producer
        self.consumers = consumers
        visible = keep.union(graph.outputs.map { $0.name })
    }

    /// The standard-domain node that alone reads `name` (as its first input, with one output), when nothing
    /// else needs to see `name`.
    func soleConsumer(_ name: String) -> Int? {
        guard !visible.contains(name), let c = consumers[name], c.count == 1 else { return nil }
        let n = graph.nodes[c[0]]
        return n.domain.isEmpty && n.inputs.first == name && n.outputs.count == 1 ? c[0] : nil
    }

    /// The value of a one-element float32 initializer.
    func floatScalar(_ name: String) -> Float? {
        guard let t = graph.initializers[name], t.type == .float32, t.count == 1 else { return nil }
        return t.floats()[0]
    }

    /// The nodes after a convolution's output that fold into its epilogue.
    struct Epilogue {
        var chain: [Int] = []
        var output: String
        var bn: Node? = nil
        var activation = QuantizedFusion.Activation.none
        var clipMin = -Float.infinity, clipMax = Float.infinity
    }

    func epilogue(after output: String) -> Epilogue {
        var e = Epilogue(output: output)
        if let c = soleConsumer(e.output), graph.nodes[c].opType == "BatchNormalization" {
            let n = graph.nodes[c]
            let params = (1...4).map { n.input($0) ?? "" }
            // Inference form with per-channel initializer parameters (opset < 9 "spatial = 0" is per cell).
            if n.int("training_mode", default: 0) == 0, n.int("spatial", default: 1) == 1,
               params.allSatisfy({ graph.initializers[$0]?.type == .float32 }) {
                e.bn = n
                e.chain.append(c)
                e.output = n.outputs[0]
            }
        }
        guard let c = soleConsumer(e.output) else { return e }
        let n = graph.nodes[c]
        if n.opType == "Relu" {
            e.activation = QuantizedFusion.Activation.relu
        } else if n.opType == "Clip" {
            if n.opsetVersion < 11 {
                e.clipMin = n.float("min", default: -Float.infinity)
                e.clipMax = n.float("max", default: Float.infinity)
                e.activation = QuantizedFusion.Activation.clip
            } else {
                // Only bounds known now; a computed bound is left to the Clip op.
                let lo = n.input(1), hi = n.input(2)
                if (lo == nil || floatScalar(lo!) != nil) && (hi == nil || floatScalar(hi!) != nil) {
                    if let lo { e.clipMin = floatScalar(lo)! }
                    if let hi { e.clipMax = floatScalar(hi)! }
                    e.activation = QuantizedFusion.Activation.clip
                }
            }
        }
        if e.activation != QuantizedFusion.Activation.none {
            e.chain.append(c)
            e.output = n.outputs[0]
        }
        return e
    }
}
