// fp16 ONNX files (float16 initializers and float16 activations, as onnxconverter-common's
// convert_float_to_float16 writes them, with or without keep_io_types) load as the same thing `--precision fp16`
// makes of an fp32 file: an fp32 graph whose Conv/Gemm/MatMul weights stay binary16. Every other float16
// value is computed in fp32 (exact widening of the file's constants; activations are no longer rounded to
// binary16 between ops), and the file's float16 inputs and outputs keep their type at the boundary.

enum HalfPrecisionGraph {
    static let float16Code = Int(ElementType.float16.rawValue)
    static let float32Code = Int(ElementType.float32.rawValue)

    /// A graph whose weight ops read binary16 initializers: what the loader lowers.
    static func isHalfModel(_ graph: Graph) -> Bool {
        !HalfPrecisionWeights.weightInitializers(of: graph, type: .float16).isEmpty
    }

    static func lowered(_ graph: Graph) -> Graph {
        guard isHalfModel(graph) else { return graph }
        var result = graph
        let weights = HalfPrecisionWeights.weightInitializers(of: graph, type: .float16)
        for (name, t) in graph.initializers where t.type == .float16 && !weights.contains(name) {
            result.initializers[name] = widened(t)
        }
        for k in result.nodes.indices where result.nodes[k].domain.isEmpty {
            var node = result.nodes[k]
            switch node.opType {
            case "Cast":
                if node.int("to") == float16Code { node.attributes["to"] = .int(float32Code) }
                if node.string("to") == "FLOAT16" { node.attributes["to"] = .string("FLOAT") }
            case "Constant", "ConstantOfShape":
                if let t = node.tensor("value"), t.type == .float16 { node.attributes["value"] = .tensor(widened(t)) }
            default: break
            }
            result.nodes[k] = node
        }

        // The boundary: float16 graph inputs are widened on the way in, float16 outputs narrowed on the way out.
        var entry: [Node] = [], exit: [Node] = []
        func rename(_ old: String, _ new: String, inputs: Bool, outputs: Bool) {
            for k in result.nodes.indices {
                if inputs { result.nodes[k].inputs = result.nodes[k].inputs.map { $0 == old ? new : $0 } }
                if outputs { result.nodes[k].outputs = result.nodes[k].outputs.map { $0 == old ? new : $0 } }
            }
        }
        func cast(_ from: String, _ to: String, _ code: Int) -> Node {
            Node(opType: "Cast", domain: "", name: to + "::cast", inputs: [from], outputs: [to],
                 attributes: ["to": .int(code)], opsetVersion: graph.opsetVersion)
        }
        for input in graph.inputs where input.type == .float16 {
            rename(input.name, input.name + "::fp32", inputs: true, outputs: false)
            entry.append(cast(input.name, input.name + "::fp32", float32Code))
        }
        let inputNames = Set(graph.inputs.map { $0.name })
        for output in graph.outputs where output.type == .float16 {
            // An output that is an input or a constant has no producer to rename: it stays as it is.
            guard !inputNames.contains(output.name), graph.initializers[output.name] == nil else { continue }
            rename(output.name, output.name + "::fp32", inputs: true, outputs: true)
            exit.append(cast(output.name + "::fp32", output.name, float16Code))
        }
        result.nodes = entry + result.nodes + exit
        return HalfPrecisionWeights.routeHalfWeights(result)
    }

    static func widened(_ t: Tensor) -> Tensor {
        let wide = Tensor(type: .float32, shape: t.shape)
        let src = t.pointer(as: Float16.self), dst = wide.pointer(as: Float.self)
        for i in 0..<t.count { dst[i] = Float(src[i]) }
        return wide
    }
}
