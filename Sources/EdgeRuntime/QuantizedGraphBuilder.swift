// Turns an fp32 graph plus calibrated activation ranges into a standard QDQ graph: symmetric per-output-
// channel int8 weights, asymmetric uint8 activations (onnxruntime's quantize_static layout), every
// BatchNormalization kept as its own float node so patches still address its initializers.

/// The observed range of one activation tensor.
public struct ActivationRange: Equatable {
    public var min: Float
    public var max: Float
    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }
}

public enum QuantizeError: Error, Equatable {
    case missingRange(tensor: String)
    case nothingToQuantize
}

public enum QuantizedGraphBuilder {
    /// Conv and Gemm nodes whose weights are float initializers: the nodes that get int8 weights.
    public static func quantizableNodes(_ graph: Graph) -> [Int] {
        var out: [Int] = []
        for (i, n) in graph.nodes.enumerated() where n.domain.isEmpty && (n.opType == "Conv" || n.opType == "Gemm") {
            guard let w = n.input(1), let t = graph.initializers[w], t.type == .float32, t.shape.count >= 2 else { continue }
            if n.opType == "Gemm" && n.int("transA", default: 0) != 0 { continue }
            out.append(i)
        }
        return out
    }

    /// Activations to calibrate and quantize: the data input of every quantizable node, and the end of each
    /// Conv/Gemm [-> BatchNormalization] [-> Relu/Clip] chain (where the int8 kernels requantize).
    public static func activationsToQuantize(_ graph: Graph) -> [String] {
        var consumers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        let outputs = Set(graph.outputs.map { $0.name })
        var names: [String] = []
        func add(_ n: String) { if !names.contains(n) && graph.initializers[n] == nil { names.append(n) } }
        for i in quantizableNodes(graph) {
            let node = graph.nodes[i]
            if let x = node.input(0) { add(x) }
            var current = node.outputs[0]
            for op in ["BatchNormalization", "Relu|Clip"] {
                guard !outputs.contains(current), let c = consumers[current], c.count == 1 else { break }
                let next = graph.nodes[c[0]]
                if op.split(separator: "|").contains(where: { String($0) == next.opType }) && next.inputs.first == current {
                    current = next.outputs[0]
                }
            }
            // A graph output (the logits) stays float: quantizing it would only lose precision.
            if !outputs.contains(current) { add(current) }
        }
        return names
    }

    /// uint8 scale and zero point covering [min(lo, 0), max(hi, 0)], as onnxruntime computes them.
    public static func uint8Parameters(_ r: ActivationRange) -> (scale: Float, zero: UInt8) {
        let lo = Swift.min(r.min, 0), hi = Swift.max(r.max, 0)
        var scale = (hi - lo) / 255
        if !(scale > 0) || !scale.isFinite { scale = 1 }
        let z = (-lo / scale).rounded(.toNearestOrEven)
        return (scale, UInt8(Swift.max(0, Swift.min(255, z))))
    }

    /// Symmetric int8 quantization of `w` per slice along `axis`: scale = max|w| / 127, values in [-127, 127].
    static func quantizeWeights(_ w: Tensor, axis: Int) -> (Tensor, Tensor, Tensor) {
        let channels = w.shape[axis]
        var outer = 1
        for d in w.shape[..<axis] { outer *= d }
        let inner = w.count / Swift.max(outer * channels, 1)
        let src = w.pointer(as: Float.self)
        var scales = [Float](repeating: 0, count: channels)
        for o in 0..<outer {
            for c in 0..<channels {
                for k in 0..<inner { scales[c] = Swift.max(scales[c], abs(src[(o * channels + c) * inner + k])) }
            }
        }
        for c in 0..<channels { scales[c] = scales[c] > 0 ? scales[c] / 127 : 1 }
        let q = Tensor(type: .int8, shape: w.shape)
        let qp = q.pointer(as: Int8.self)
        for o in 0..<outer {
            for c in 0..<channels {
                for k in 0..<inner {
                    let i = (o * channels + c) * inner + k
                    let v = (src[i] / scales[c]).rounded(.toNearestOrEven)
                    qp[i] = Int8(Swift.max(-127, Swift.min(127, v)))
                }
            }
        }
        return (q, Tensor(shape: [channels], floats: scales), Tensor(type: .int8, shape: [channels]))
    }

    public static func build(_ graph: Graph, ranges: [String: ActivationRange]) throws(QuantizeError) -> Graph {
        let targets = quantizableNodes(graph)
        if targets.isEmpty { throw .nothingToQuantize }
        let activations = activationsToQuantize(graph)
        var result = graph
        result.nodes = []
        var dequantized: [String: String] = [:]   // activation -> its DQ output
        func addInitializer(_ name: String, _ t: Tensor) {
            result.initializers[name] = t
            result.initializerOrder.append(name)
        }
        func emitQDQ(_ name: String) throws(QuantizeError) {
            guard let r = ranges[name] else { throw .missingRange(tensor: name) }
            let (scale, zero) = uint8Parameters(r)
            let z = Tensor(type: .uint8, shape: [])
            z.pointer(as: UInt8.self)[0] = zero
            addInitializer(name + "_scale", Tensor(shape: [], floats: [scale]))
            addInitializer(name + "_zero_point", z)
            result.nodes.append(Node(opType: "QuantizeLinear", domain: "", name: name + "_QuantizeLinear",
                                     inputs: [name, name + "_scale", name + "_zero_point"], outputs: [name + "_quantized"],
                                     attributes: [:], opsetVersion: graph.opsetVersion))
            result.nodes.append(Node(opType: "DequantizeLinear", domain: "", name: name + "_DequantizeLinear",
                                     inputs: [name + "_quantized", name + "_scale", name + "_zero_point"],
                                     outputs: [name + "_dequantized"], attributes: [:], opsetVersion: graph.opsetVersion))
            dequantized[name] = name + "_dequantized"
        }
        for input in graph.inputs where activations.contains(input.name) { try emitQDQ(input.name) }

        var replacedWeights = Set<String>()
        for (i, original) in graph.nodes.enumerated() {
            var node = original
            for (k, name) in node.inputs.enumerated() {
                if let dq = dequantized[name] { node.inputs[k] = dq }
            }
            if targets.contains(i), let w = original.input(1) {
                let t = graph.initializers[w]!
                // Gemm with transB=0 stores W as [K, M]: its output channels are axis 1.
                let axis = original.opType == "Gemm" && original.int("transB", default: 0) == 0 ? 1 : 0
                let (q, scale, zero) = quantizeWeights(t, axis: axis)
                let base = w + "_quantized"
                if graph.initializers[base] == nil && result.initializers[base] == nil {
                    addInitializer(base, q)
                    addInitializer(w + "_scale", scale)
                    addInitializer(w + "_zero_point", zero)
                }
                result.nodes.append(Node(opType: "DequantizeLinear", domain: "", name: w + "_DequantizeLinear_\(i)",
                                         inputs: [base, w + "_scale", w + "_zero_point"], outputs: [w + "_dequantized_\(i)"],
                                         attributes: ["axis": .int(axis)], opsetVersion: graph.opsetVersion))
                node.inputs[1] = w + "_dequantized_\(i)"
                replacedWeights.insert(w)
            }
            result.nodes.append(node)
            for out in original.outputs where activations.contains(out) { try emitQDQ(out) }
        }
        // Float weights nothing reads any more are dropped: the file carries only their int8 form.
        var stillRead = Set<String>()
        for n in result.nodes { for input in n.inputs { stillRead.insert(input) } }
        for w in replacedWeights where !stillRead.contains(w) {
            result.initializers[w] = nil
            result.initializerOrder.removeAll { $0 == w }
        }
        if result.opsetVersion < 13 { result.opsetVersion = 13 }   // per-axis QDQ needs opset 13
        for k in result.nodes.indices where result.nodes[k].domain.isEmpty { result.nodes[k].opsetVersion = result.opsetVersion }
        return result
    }
}
