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

    /// EdgeRuntime's resolution of the node's window attributes (one definition for both executors).
    static func resolve(_ ctx: StepContext, inSize: [Int], kernel: [Int], ceilMode: Bool = false)
        throws(TrainerError) -> WindowGeometry {
        let g: EdgeRuntime.WindowGeometry
        do { g = try Windows.resolve(ctx.node, inSize: inSize, kernel: kernel, ceilMode: ceilMode) } catch {
            switch error {
            case .shape(let reason): throw ctx.shapeError(reason)
            case .unknownAutoPad(let value):
                throw .invalidAttribute(node: ctx.label, attribute: "auto_pad", reason: "has unknown value \(value)")
            }
        }
        return WindowGeometry(inSize: inSize, kernel: g.kernel, strides: g.strides, dilations: g.dilations,
                              padBegin: g.padBegin, padEnd: g.padEnd, outSize: g.outSize)
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
