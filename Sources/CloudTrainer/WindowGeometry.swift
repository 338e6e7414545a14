// Sliding-window geometry of Conv and the pools (kernel, strides, dilations, pads, auto_pad, ceil_mode),
// resolved once at compile time, and its conversion to the C kernels' descriptors.
import CEdgeShim
import EdgeRuntime

struct WindowGeometry {
    var inSize: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var outSize: [Int]

    static func resolve(_ ctx: StepContext, inSize: [Int], kernel: [Int], ceilMode: Bool = false)
        throws(TrainerError) -> WindowGeometry {
        let k = inSize.count
        let node = ctx.node
        let strides = node.ints("strides") ?? [Int](repeating: 1, count: k)
        let dilations = node.ints("dilations") ?? [Int](repeating: 1, count: k)
        if strides.count != k || dilations.count != k || kernel.count != k {
            throw ctx.shapeError("strides/dilations/kernel_shape must have \(k) entries")
        }
        if (strides + dilations + kernel).contains(where: { $0 < 1 }) {
            throw ctx.shapeError("strides, dilations and kernel sizes must be positive")
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
                if pads.count != 2 * k { throw ctx.shapeError("pads must have \(2 * k) entries") }
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
                throw .invalidAttribute(node: ctx.label, attribute: "auto_pad", reason: "has unknown value \(autoPad)")
            }
            if out[i] < 1 { throw ctx.shapeError("window does not fit: output size \(out[i]) on axis \(i + 2)") }
        }
        return WindowGeometry(inSize: inSize, kernel: kernel, strides: strides, dilations: dilations,
                              padBegin: padBegin, padEnd: padEnd, outSize: out)
    }

    /// The same geometry with 1..3 spatial dims padded to exactly 3 (leading size-1 dims), for Swift loops.
    var padded3: WindowGeometry {
        let extra = 3 - inSize.count
        func pad(_ a: [Int], _ v: Int) -> [Int] { [Int](repeating: v, count: extra) + a }
        return WindowGeometry(inSize: pad(inSize, 1), kernel: pad(kernel, 1), strides: pad(strides, 1),
                              dilations: pad(dilations, 1), padBegin: pad(padBegin, 0), padEnd: pad(padEnd, 0),
                              outSize: pad(outSize, 1))
    }
}

/// Copies up to three values into a C fixed-size array field.
func setTriple(_ target: inout (Int32, Int32, Int32), _ values: [Int], fill: Int32 = 1) {
    target = (values.count > 0 ? Int32(values[0]) : fill,
              values.count > 1 ? Int32(values[1]) : fill,
              values.count > 2 ? Int32(values[2]) : fill)
}
