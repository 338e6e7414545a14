// fp16 weights: the Conv/ConvTranspose/Gemm/MatMul weight initializers are stored as binary16 and everything
// else stays fp32. Conv reads binary16 directly (its packed panels are binary16 and are widened one cache-sized
// block at a time); the other weight ops read a WidenHalf node that widens into the arena at every run, so no
// fp32 copy of a weight is ever kept. Arithmetic is fp32 throughout.
import CEdgeShim

/// Arithmetic precision of prepared weights.
public enum Precision: String, Sendable {
    case fp32
    case fp16
}

enum HalfPrecisionWeights {
    static let weightOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]
    /// Internal op (QuantizedFusion.domain): binary16 tensor in, the same values as fp32 out, never folded.
    static let widenOpType = "WidenHalf"

    /// Initializers of `type` that weight ops alone read, each as its weight (input 1). Anything read
    /// elsewhere too (a shared constant, a normalization parameter) is left as it is.
    static func weightInitializers(of graph: Graph, type: ElementType) -> Set<String> {
        var weights: Set<String> = []
        var otherUses: Set<String> = []
        for node in graph.nodes {
            // The weight's position: input 1 of a weight op or of a fused Conv, input 0 of a WidenHalf.
            var weightPosition = -1
            if node.domain.isEmpty && weightOps.contains(node.opType) { weightPosition = 1 }
            if node.domain == QuantizedFusion.domain {
                if node.opType == FloatFusion.opType { weightPosition = 1 }
                if node.opType == widenOpType { weightPosition = 0 }
            }
            for (position, input) in node.inputs.enumerated() where graph.initializers[input]?.type == type {
                if position == weightPosition { weights.insert(input) } else { otherUses.insert(input) }
            }
        }
        for output in graph.outputs { otherUses.insert(output.name) }
        return weights.subtracting(otherUses)
    }

    /// --precision fp16: the fp32 weights become binary16 (rounded to nearest even), in place under their names.
    static func rewrite(_ graph: Graph) -> Graph {
        var result = graph
        for name in weightInitializers(of: graph, type: .float32) {
            let t = graph.initializers[name]!
            let half = Tensor(type: .float16, shape: t.shape)
            let src = t.pointer(as: Float.self), dst = half.pointer(as: Float16.self)
            for i in 0..<t.count { dst[i] = Float16(src[i]) }
            result.initializers[name] = half
        }
        return routeHalfWeights(result)
    }

    /// Puts a WidenHalf in front of every binary16 weight that a non-Conv weight op reads (Conv takes
    /// binary16 itself). Idempotent: weights already routed are read by WidenHalf only.
    static func routeHalfWeights(_ graph: Graph) -> Graph {
        var result = graph
        var widened: [String: String] = [:]
        var widen: [Node] = []
        for k in result.nodes.indices {
            let node = result.nodes[k]
            guard node.domain.isEmpty, weightOps.contains(node.opType), node.opType != "Conv",
                  let w = node.input(1), graph.initializers[w]?.type == .float16 else { continue }
            if widened[w] == nil {
                widened[w] = w + "::fp32"
                widen.append(Node(opType: widenOpType, domain: QuantizedFusion.domain, name: w + "::widen",
                                  inputs: [w], outputs: [w + "::fp32"], attributes: [:],
                                  opsetVersion: graph.opsetVersion))
            }
            result.nodes[k].inputs[1] = widened[w]!
        }
        result.nodes = widen + result.nodes
        return result
    }

    static func widen(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        _ = try ctx.requireType(0, [.float16])
        var build = OpBuild(.float32, try ctx.shape(0)) { i, o in
            let src = i[0]!.typed(UInt16.self), dst = o[0].f32, n = o[0].count
            return { cedge_half_to_float_n(n, src, dst) }
        }
        build.foldable = false
        return build
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

    /// Weight tensors stored as binary16 (fp16 files, or after `converted(to: .fp16)`).
    public var halfPrecisionWeights: Int {
        HalfPrecisionWeights.weightInitializers(of: graph, type: .float16).count
    }
}
