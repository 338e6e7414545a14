// The only weights CEMA ever changes: each normalization layer's affine parameters (and BN statistics),
// addressed by their ONNX initializer names.

public struct NormLayer {
    public var node: String
    public var op: String
    public var channels: Int
    public var scale: String
    public var bias: String?
    /// BatchNormalization running statistics (patched together with the affine parameters).
    public var mean: String?
    public var variance: String?

    /// Names of every parameter a patch may replace for this layer.
    public var parameterNames: [String] {
        var names = [scale]
        if let bias { names.append(bias) }
        if let mean { names.append(mean) }
        if let variance { names.append(variance) }
        return names
    }
}

public enum NormParameters {
    static let normalizationOps: Set<String> = ["BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"]

    /// Normalization layers whose parameters are initializers (so a patch can address them), in graph order.
    public static func layers(of graph: Graph) -> [NormLayer] {
        var layers: [NormLayer] = []
        for node in graph.nodes where normalizationOps.contains(node.opType) && node.domain.isEmpty {
            guard let scale = node.input(1), let t = graph.initializers[scale] else { continue }
            let isBN = node.opType == "BatchNormalization"
            func initializer(_ i: Int) -> String? {
                guard let name = node.input(i), graph.initializers[name] != nil else { return nil }
                return name
            }
            layers.append(NormLayer(node: node.label, op: node.opType, channels: t.count, scale: scale,
                                    bias: initializer(2), mean: isBN ? initializer(3) : nil,
                                    variance: isBN ? initializer(4) : nil))
        }
        return layers
    }

    /// Number of affine elements (scale + bias) across all normalization layers.
    public static func affineCount(of graph: Graph) -> Int {
        var n = 0
        for layer in layers(of: graph) {
            n += graph.initializers[layer.scale]!.count
            if let b = layer.bias { n += graph.initializers[b]!.count }
        }
        return n
    }
}
