// --precision fp16: Conv/ConvTranspose/Gemm/MatMul weights go through binary16 (rounded to nearest even) and
// reach the fp32 kernels through a Cast the planner folds once at prepare time, so arithmetic stays fp32.

/// Arithmetic precision of prepared weights.
public enum Precision: String, Sendable {
    case fp32
    case fp16
}

enum HalfPrecisionWeights {
    static let weightOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]

    static func rewrite(_ graph: Graph) -> Graph {
        var result = graph
        var converted: [String: String] = [:]   // fp32 initializer -> its fp16-through Cast output
        var casts: [Node] = []
        for k in result.nodes.indices where result.nodes[k].domain.isEmpty && weightOps.contains(result.nodes[k].opType) {
            guard let w = result.nodes[k].input(1), let t = graph.initializers[w], t.type == .float32 else { continue }
            if converted[w] == nil {
                let half = Tensor(type: .float16, shape: t.shape)
                let src = t.pointer(as: Float.self), dst = half.pointer(as: Float16.self)
                for i in 0..<t.count { dst[i] = Float16(src[i]) }
                result.initializers[w + "::fp16"] = half
                result.initializerOrder.append(w + "::fp16")
                converted[w] = w + "::fp16_as_fp32"
                casts.append(Node(opType: "Cast", domain: "", name: w + "::fp16_cast", inputs: [w + "::fp16"],
                                  outputs: [w + "::fp16_as_fp32"], attributes: ["to": .int(Int(ElementType.float32.rawValue))],
                                  opsetVersion: graph.opsetVersion))
            }
            result.nodes[k].inputs[1] = converted[w]!
        }
        result.nodes = casts + result.nodes
        // The fp32 originals nothing reads any more leave the graph: the model then holds binary16 only.
        var read = Set<String>()
        for n in result.nodes { for input in n.inputs { read.insert(input) } }
        for name in converted.keys where !read.contains(name) {
            result.initializers[name] = nil
            result.initializerOrder.removeAll { $0 == name }
        }
        return result
    }
}

extension Model {
    /// This model with its weights in `precision` (fp16: stored as binary16 in the returned model's graph).
    /// Normalization parameters stay fp32 and the model identity is kept, so the same patches apply.
    public func converted(to precision: Precision) -> Model {
        switch precision {
        case .fp32: return self
        case .fp16: return Model(graph: HalfPrecisionWeights.rewrite(graph), modelSHA256: modelSHA256)
        }
    }
}
