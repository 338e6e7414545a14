// Sliding-window geometry shared by Conv, ConvTranspose and pooling: kernel, strides, dilations, pads.

public struct WindowGeometry {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padBegin: [Int]
    public var padEnd: [Int]
    public var outSize: [Int]
}

/// Why a node's window attributes do not resolve (each caller wraps it in its own error type).
public enum WindowError: Error {
    case shape(String)
    case unknownAutoPad(String)
}

public enum Windows {
    /// Resolves pads and output sizes of a forward window op (Conv, MaxPool, AveragePool).
    static func forward(_ ctx: OpContext, inSize: [Int], kernel: [Int], ceilMode: Bool = false)
        throws(ModelLoadError) -> WindowGeometry {
        do { return try resolve(ctx.node, inSize: inSize, kernel: kernel, ceilMode: ceilMode) } catch {
            switch error {
            case .shape(let reason): throw ctx.shapeError(reason)
            case .unknownAutoPad(let value):
                throw .invalidAttribute(node: ctx.node.label, attribute: "auto_pad", reason: "has unknown value \(value)")
            }
        }
    }

    /// The same for any holder of the node (the cloud trainer compiles the same graphs).
    public static func resolve(_ node: Node, inSize: [Int], kernel: [Int], ceilMode: Bool = false)
        throws(WindowError) -> WindowGeometry {
        let k = inSize.count
        let strides = node.ints("strides") ?? [Int](repeating: 1, count: k)
        let dilations = node.ints("dilations") ?? [Int](repeating: 1, count: k)
        if strides.count != k || dilations.count != k || kernel.count != k {
            throw .shape("strides/dilations/kernel_shape must have \(k) entries")
        }
        if strides.contains(where: { $0 < 1 }) || dilations.contains(where: { $0 < 1 }) || kernel.contains(where: { $0 < 1 }) {
            throw .shape("strides, dilations and kernel sizes must be positive")
        }
        var padBegin = [Int](repeating: 0, count: k), padEnd = padBegin, out = padBegin
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        for i in 0..<k {
            let span = (kernel[i] - 1) * dilations[i] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                out[i] = (inSize[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out[i] - 1) * strides[i] + span - inSize[i])
                padBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                padEnd[i] = total - padBegin[i]
            case "VALID":
                out[i] = (inSize[i] - span + strides[i]) / strides[i]
            case "NOTSET", "":
                let pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * k)
                if pads.count != 2 * k { throw .shape("pads must have \(2 * k) entries") }
                padBegin[i] = pads[i]
                padEnd[i] = pads[i + k]
                let extent = inSize[i] + padBegin[i] + padEnd[i] - span
                if ceilMode {
                    out[i] = (extent + strides[i] - 1) / strides[i] + 1
                    // The last window must start inside the input or its leading pad.
                    if (out[i] - 1) * strides[i] >= inSize[i] + padBegin[i] { out[i] -= 1 }
                } else {
                    out[i] = extent >= 0 ? extent / strides[i] + 1 : 0
                }
            default:
                throw .unknownAutoPad(autoPad)
            }
            if out[i] < 1 { throw .shape("window does not fit: output size \(out[i]) on axis \(i + 2)") }
        }
        return WindowGeometry(kernel: kernel, strides: strides, dilations: dilations, padBegin: padBegin,
                              padEnd: padEnd, outSize: out)
    }
}

/// Copies up to three values into a C fixed-size array field.
func setTriple(_ target: inout (Int32, Int32, Int32), _ values: [Int], fill: Int32 = 1) {
    target = (values.count > 0 ? Int32(values[0]) : fill,
              values.count > 1 ? Int32(values[1]) : fill,
              values.count > 2 ? Int32(values[2]) : fill)
}
