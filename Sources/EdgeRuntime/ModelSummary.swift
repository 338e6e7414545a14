// What `inspect` reports: operators, parameters, normalization layers, and multiply-accumulates for a shape.
import CEdgeShim

public struct ModelSummary {
    public var operatorCounts: [(op: String, count: Int)]
    public var parameterCount: Int
    public var normLayers: [NormLayer]
    public var normAffineCount: Int
    /// Multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul for the prepared shapes.
    public var macs: Int
    public var arenaBytes: Int
    public var outputShapes: [(name: String, shape: [Int])]
}

extension Model {
    public func summary(inputShapes: [String: [Int]]) throws(ModelLoadError) -> ModelSummary {
        let plan = try Planner.plan(graph: graph, inputShapes: inputShapes)
        var counts: [String: Int] = [:]
        var order: [String] = []
        for node in graph.nodes {
            if counts[node.opType] == nil { order.append(node.opType) }
            counts[node.opType, default: 0] += 1
        }
        var params = 0
        for name in graph.initializerOrder { params += graph.initializers[name]!.count }
        var macs = 0
        for step in plan.steps {
            let outShape = plan.values[step.outputs[0]].shape
            func inShape(_ k: Int) -> [Int] { step.inputs[k].map { plan.values[$0].shape } ?? [] }
            // Fused convolutions (Conv + BatchNormalization + activation) count as the Conv they started as.
            let fused = step.node.domain == QuantizedFusion.domain
            switch step.node.opType {
            case "Conv" where !fused, FloatFusion.opType where fused, "QConv" where fused:
                let w = inShape(1)
                macs += shapeCount(outShape) * shapeCount(Array(w[1...]))
            case "ConvTranspose" where !fused:
                let w = inShape(1)
                macs += shapeCount(inShape(0)) * shapeCount(Array(w[1...]))
            case "Gemm" where !fused, "QGemm" where fused:
                let a = inShape(0)
                let k = step.node.int("transA", default: 0) != 0 ? a[0] : a[1]
                macs += shapeCount(outShape) * k
            case "MatMul" where !fused:
                let a = inShape(0)
                macs += shapeCount(outShape) * (a.last ?? 1)
            default: break
            }
        }
        return ModelSummary(
            operatorCounts: order.map { ($0, counts[$0]!) },
            parameterCount: params,
            normLayers: NormParameters.layers(of: graph),
            normAffineCount: NormParameters.affineCount(of: graph),
            macs: macs, arenaBytes: plan.arenaBytes,
            outputShapes: plan.outputIds.map { (plan.names[$0], plan.values[$0].shape) })
    }
}

/// Thread count of the numeric kernels (n < 1: all cores).
public enum RuntimeThreads {
    public static func set(_ n: Int) { cedge_set_threads(Int32(n)) }
    public static var current: Int { Int(cedge_get_threads()) }
}
