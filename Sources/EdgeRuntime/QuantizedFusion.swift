// Plan-time rewrite of QDQ graphs: DQ(x) -> Conv/Gemm <- DQ(W int8) [-> BatchNormalization] [-> Relu/Clip]
// [-> Q] becomes one int8 node, and DQ(a) + DQ(b) [-> Relu] -> Q (a residual add) one QAdd node. The BatchNormalization is folded into the requantization at run time (from
// the live parameters, so patches take effect), never into the weights. Anything else stays as it is and
// runs dequantize -> fp32 op -> quantize.

enum QuantizedFusion {
    /// Domain of the fused nodes; ONNX files cannot name it by accident (OperatorTable checks it first).
    static let domain = "cema.fused"

    /// Input positions of a fused node (empty name = absent).
    enum Slot {
        static let x = 0, w = 1, xScale = 2, xZero = 3, wScale = 4, wZero = 5, bias = 6, yScale = 7, yZero = 8
        static let gamma = 9, beta = 10, mean = 11, variance = 12
        static let count = 13
    }

    /// What follows the convolution: 0 nothing, 1 Relu, 2 Clip (bounds in clip_min/clip_max).
    enum Activation {
        static let none = 0, relu = 1, clip = 2
    }

    /// `keep`: values that must stay visible (observed intermediates), so no chain is fused across them.
    static func rewrite(_ graph: Graph, keep: Set<String> = []) -> Graph {
        let uses = FusionGraph(graph, keep: keep)
        let graphOutputs = uses.visible
        let initializers = graph.initializers
        let soleConsumer = uses.soleConsumer

        func isInitializer(_ name: String) -> Bool { !name.isEmpty && initializers[name] != nil }
        func dequantizer(of name: String) -> Node? {
            guard let p = uses.producer[name] else { return nil }
            let n = graph.nodes[p]
            return n.domain.isEmpty && n.opType == "DequantizeLinear" ? n : nil
        }
        func scalarConstant(_ name: String, _ types: [ElementType]) -> Bool {
            guard let t = initializers[name] else { return false }
            return t.count == 1 && types.contains(t.type)
        }

        var nodes = graph.nodes
        var removed = Set<Int>()
        var fusedAny = false
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty {
            let isGemm = node.opType == "Gemm"
            guard node.opType == "Conv" || isGemm, node.outputs.count == 1 else { continue }
            if isGemm && (node.int("transA", default: 0) != 0 || node.int("transB", default: 0) != 1) { continue }
            // Activation: a per-tensor DQ with an explicit zero point, so its type is known now.
            guard let dx = node.input(0).flatMap(dequantizer), let xq = dx.input(0), let xs = dx.input(1),
                  let xz = dx.input(2), scalarConstant(xs, [.float32]), scalarConstant(xz, [.uint8, .int8])
            else { continue }
            // Weights: int8 initializer, symmetric (zero point absent or all zeros), per tensor or per output channel.
            guard let dw = node.input(1).flatMap(dequantizer), let wq = dw.input(0), let ws = dw.input(1),
                  let w = initializers[wq], w.type == .int8, w.shape.count >= 2,
                  let wsT = initializers[ws], wsT.type == .float32,
                  wsT.count == 1 || (wsT.count == w.shape[0] && dw.int("axis", default: 1) == 0)
            else { continue }
            let wz = dw.input(2) ?? ""
            if !wz.isEmpty {
                guard let z = initializers[wz], z.type == .int8, z.int64s().allSatisfy({ $0 == 0 }) else { continue }
            }
            // Bias: a float initializer or a DQ of initializers (int32 bias), folded to a constant when planning.
            var bias = ""
            if let b = node.input(2) {
                if isInitializer(b) {
                    bias = b
                } else if let db = dequantizer(of: b), db.inputs.allSatisfy({ $0.isEmpty || isInitializer($0) }) {
                    bias = b
                } else { continue }
            }

            var e = uses.epilogue(after: node.outputs[0])
            var q: Node? = nil
            if let c = soleConsumer(e.output), graph.nodes[c].opType == "QuantizeLinear" {
                let n = graph.nodes[c]
                if let ys = n.input(1), let yz = n.input(2), scalarConstant(ys, [.float32]), scalarConstant(yz, [.uint8, .int8]) {
                    q = n
                    e.chain.append(c)
                    e.output = n.outputs[0]
                }
            }

            var inputs = [String](repeating: "", count: Slot.count)
            inputs[Slot.x] = xq
            inputs[Slot.w] = wq
            inputs[Slot.xScale] = xs
            inputs[Slot.xZero] = xz
            inputs[Slot.wScale] = ws
            inputs[Slot.wZero] = wz
            inputs[Slot.bias] = bias
            if let q {
                inputs[Slot.yScale] = q.inputs[1]
                inputs[Slot.yZero] = q.inputs[2]
            }
            nodes[index] = fusedNode(isGemm ? "QGemm" : "QConv", node, inputs: inputs, gammaSlot: Slot.gamma, epilogue: e)
            for c in e.chain { removed.insert(c) }
            fusedAny = true
        }
        fusedAny = fuseAdds(graph, &nodes, &removed, soleConsumer: soleConsumer, dequantizer: dequantizer,
                            scalarConstant: scalarConstant) || fusedAny
        if !fusedAny { return graph }

        var kept: [Node] = []
        for (i, n) in nodes.enumerated() where !removed.contains(i) { kept.append(n) }
        // The weight dequantizers (and any activation DQ read by nothing else now) are dead: drop them so
        // the planner neither folds a float copy of every weight nor runs them.
        var used = graphOutputs
        for n in kept { for input in n.inputs where !input.isEmpty { used.insert(input) } }
        kept = kept.filter { n in
            !(n.domain.isEmpty && n.opType == "DequantizeLinear" && !n.outputs.contains(where: { used.contains($0) }))
        }
        var result = graph
        result.nodes = kept
        return result
    }

    /// The fused node replacing `node` (a Conv or Gemm): its inputs with the BatchNormalization's four
    /// parameters in the norm slots, and the epilogue as attributes. Shared by the int8 and fp32 rewrites.
    static func fusedNode(_ opType: String, _ node: Node, inputs: [String], gammaSlot: Int,
                          epilogue e: FusionGraph.Epilogue) -> Node {
        var inputs = inputs
        if let bn = e.bn {
            for k in 0..<4 { inputs[gammaSlot + k] = bn.inputs[1 + k] }
        }
        var attributes = node.attributes
        attributes["bn_epsilon"] = .float(e.bn?.float("epsilon", default: 1e-5) ?? 0)
        attributes["activation"] = .int(e.activation)
        attributes["clip_min"] = .float(e.clipMin)
        attributes["clip_max"] = .float(e.clipMax)
        return Node(opType: opType, domain: domain, name: node.name, inputs: inputs, outputs: [e.output],
                    attributes: attributes, opsetVersion: node.opsetVersion)
    }

    /// Input positions of a fused QAdd node.
    enum AddSlot {
        static let a = 0, aScale = 1, aZero = 2, b = 3, bScale = 4, bZero = 5, yScale = 6, yZero = 7
        static let count = 8
    }

    /// DQ(a) + DQ(b) [-> Relu] [-> Q] with per-tensor parameters on both sides and a shared quantized type: the
    /// float passes over the tensor become one (QuantizedAdd runs the same float operations).
    static func fuseAdds(_ graph: Graph, _ nodes: inout [Node], _ removed: inout Set<Int>,
                         soleConsumer: (String) -> Int?, dequantizer: (String) -> Node?,
                         scalarConstant: (String, [ElementType]) -> Bool) -> Bool {
        var fusedAny = false
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.opType == "Add" {
            guard node.inputs.count == 2, node.outputs.count == 1, !removed.contains(index),
                  let da = node.input(0).flatMap(dequantizer), let db = node.input(1).flatMap(dequantizer)
            else { continue }
            func perTensor(_ dq: Node) -> Bool {
                guard let s = dq.input(1), let z = dq.input(2) else { return false }
                return scalarConstant(s, [.float32]) && scalarConstant(z, [.uint8, .int8])
            }
            guard perTensor(da), perTensor(db), let za = graph.initializers[da.inputs[2]],
                  let zb = graph.initializers[db.inputs[2]], za.type == zb.type else { continue }
            var chain: [Int] = []
            var current = node.outputs[0]
            var relu = false
            if let c = soleConsumer(current), graph.nodes[c].opType == "Relu", graph.nodes[c].outputs.count == 1 {
                relu = true
                chain.append(c)
                current = graph.nodes[c].outputs[0]
            }
            // Requantized, or left in float when no per-tensor QuantizeLinear follows (the last block's sum,
            // which the head's pool reads): one pass either way instead of three or four.
            var ys = "", yz = "", outputs = [current]
            if let c = soleConsumer(current), graph.nodes[c].opType == "QuantizeLinear",
               graph.nodes[c].inputs.first == current, let s = graph.nodes[c].input(1), let z = graph.nodes[c].input(2),
               scalarConstant(s, [.float32]), scalarConstant(z, [.uint8, .int8]) {
                ys = s
                yz = z
                outputs = graph.nodes[c].outputs
                chain.append(c)
            }
            var inputs = [String](repeating: "", count: AddSlot.count)
            inputs[AddSlot.a] = da.inputs[0]
            inputs[AddSlot.aScale] = da.inputs[1]
            inputs[AddSlot.aZero] = da.inputs[2]
            inputs[AddSlot.b] = db.inputs[0]
            inputs[AddSlot.bScale] = db.inputs[1]
            inputs[AddSlot.bZero] = db.inputs[2]
            inputs[AddSlot.yScale] = ys
            inputs[AddSlot.yZero] = yz
            nodes[index] = Node(opType: "QAdd", domain: domain, name: node.name, inputs: inputs,
                                outputs: outputs, attributes: ["relu": .int(relu ? 1 : 0)],
                                opsetVersion: node.opsetVersion)
            for k in chain { removed.insert(k) }
            fusedAny = true
        }
        return fusedAny
    }
}
