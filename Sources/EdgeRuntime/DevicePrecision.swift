// What a device runs: fp32 or fp16 are made from an fp32 file at load (fp16 stores the weights as binary16
// and keeps the file's identity), an fp16 file runs fp16, int8 is a QDQ file (`cema quantize`) with its own
// identity. A precision given explicitly must match the file, so a board never silently runs something else.

public enum DevicePrecision: String, Sendable {
    case fp32, fp16, int8

    public static let names = "fp32, fp16 or int8"
}

public enum PrecisionError: Error, CustomStringConvertible {
    /// int8 was asked for, the file has no quantized Conv/Gemm.
    case notQuantized
    /// fp32 or fp16 was asked for a QDQ file, whose weights are int8 already.
    case alreadyQuantized(requested: DevicePrecision, nodes: Int)
    /// fp32 was asked for a file whose weights are binary16.
    case halfPrecisionFile(weights: Int)
    case unknown(String)

    public var description: String {
        switch self {
        case .notQuantized:
            return "--precision int8 needs a QDQ model (cema quantize MODEL --calibration IMAGES --out M.int8.onnx); this one has no quantized Conv/Gemm"
        case .alreadyQuantized(let p, let n):
            return "this is a QDQ model (\(n) int8 Conv/Gemm): it runs int8, not --precision \(p.rawValue)"
        case .halfPrecisionFile(let n):
            return "this file stores its weights as float16 (\(n) weight tensors): it runs --precision fp16 (fp32 arithmetic), not fp32"
        case .unknown(let text): return "--precision is \(DevicePrecision.names), not '\(text)'"
        }
    }
}

extension DevicePrecision {
    public init(parsing text: String) throws(PrecisionError) {
        guard let p = DevicePrecision(rawValue: text) else { throw .unknown(text) }
        self = p
    }
}

extension Model {
    /// Conv/Gemm nodes whose weight input is DequantizeLinear of an 8-bit initializer (what the int8
    /// kernels run).
    public var quantizedWeightNodes: Int {
        var producer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for out in node.outputs where !out.isEmpty { producer[out] = i } }
        var count = 0
        for node in graph.nodes where node.domain.isEmpty && (node.opType == "Conv" || node.opType == "Gemm") {
            guard let w = node.input(1), let p = producer[w] else { continue }
            let dq = graph.nodes[p]
            guard dq.domain.isEmpty, dq.opType == "DequantizeLinear", let q = dq.input(0), let t = graph.initializers[q] else { continue }
            if t.type == .int8 || t.type == .uint8 { count += 1 }
        }
        return count
    }

    /// The precision this file runs in when none is asked for.
    public var nativePrecision: DevicePrecision {
        quantizedWeightNodes > 0 ? .int8 : halfPrecisionWeights > 0 ? .fp16 : .fp32
    }

    /// This model as a device runs it in `precision` (nil: as the file is). fp16 keeps the identity
    /// (modelSHA256) of the fp32 file, so that file's patches apply; an int8 QDQ file is its own identity.
    public func forDevice(_ precision: DevicePrecision?) throws(PrecisionError) -> Model {
        let quantized = quantizedWeightNodes
        switch precision ?? nativePrecision {
        case .int8:
            if quantized == 0 { throw .notQuantized }
            return self
        case let p:
            if quantized > 0 { throw .alreadyQuantized(requested: p, nodes: quantized) }
            if p == .fp32, halfPrecisionWeights > 0 { throw .halfPrecisionFile(weights: halfPrecisionWeights) }
            return converted(to: p == .fp16 ? .fp16 : .fp32)
        }
    }
}
