// Resize (opsets 10-19) and Upsample: nearest (every nearest_mode) and N-linear, with the coordinate
// transformation modes (cubic in ResizeCubic.swift). Tables are built at plan time, kernels only gather and blend.

enum ResizeOps {
    /// How output coordinates map back into the input, per axis.
    struct Spec {
        var mode: String
        var coordinates: String
        var nearestMode: String
        var scales: [Double]
        var out: [Int]
        var roi: [Double]          // tf_crop_and_resize: starts then ends, one per axis
        var extrapolation: Double
    }

    static func resize(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let x = try ctx.shape(0)
        let rank = x.count
        let node = ctx.node
        var spec = Spec(mode: node.string("mode") ?? "nearest", coordinates: "asymmetric", nearestMode: "floor",
                        scales: [], out: [], roi: [], extrapolation: Double(node.float("extrapolation_value", default: 0)))
        if ctx.opset < 11 {
            // Resize-10 behaves like Upsample: asymmetric coordinates, nearest rounds down.
            spec.scales = try ctx.constant(1).floats().map { Double($0) }
            if spec.scales.count != rank { throw ctx.shapeError("Resize: \(spec.scales.count) scales for rank \(rank)") }
            spec.out = (0..<rank).map { Int((Double(x[$0]) * spec.scales[$0]).rounded(.down)) }
            return try build(ctx, spec)
        }
        spec.coordinates = node.string("coordinate_transformation_mode") ?? "half_pixel"
        spec.nearestMode = node.string("nearest_mode") ?? "round_prefer_floor"
        if node.int("antialias", default: 0) != 0 { throw ctx.unsupported("Resize with antialias=1 is not supported") }
        let axes = try ctx.normalizedAxes(node.ints("axes") ?? Array(0..<rank), rank: rank)

        // Exactly one of scales (#2) and sizes (#3); an empty tensor counts as absent.
        let sizes = ctx.has(3) ? try ctx.constantInts(3) : []
        let scales = ctx.has(2) && sizes.isEmpty ? try ctx.constant(2).floats().map { Double($0) } : []
        spec.scales = [Double](repeating: 1, count: rank)
        spec.out = x
        if !sizes.isEmpty {
            if sizes.count != axes.count { throw ctx.shapeError("Resize: \(sizes.count) sizes for \(axes.count) axes") }
            let policy = node.string("keep_aspect_ratio_policy") ?? "stretch"
            if policy == "stretch" {
                for (k, a) in axes.enumerated() {
                    spec.out[a] = sizes[k]
                    spec.scales[a] = x[a] == 0 ? 1 : Double(sizes[k]) / Double(x[a])
                }
            } else if policy == "not_larger" || policy == "not_smaller" {
                var scale = policy == "not_larger" ? Double.infinity : 0
                for (k, a) in axes.enumerated() where x[a] > 0 {
                    let s = Double(sizes[k]) / Double(x[a])
                    scale = policy == "not_larger" ? min(scale, s) : max(scale, s)
                }
                for a in axes {
                    spec.scales[a] = scale
                    spec.out[a] = Int((scale * Double(x[a])).rounded(.toNearestOrEven))
                }
            } else {
                throw ctx.unsupported("keep_aspect_ratio_policy '\(policy)'")
            }
        } else if !scales.isEmpty {
            if scales.count != axes.count { throw ctx.shapeError("Resize: \(scales.count) scales for \(axes.count) axes") }
            for (k, a) in axes.enumerated() { spec.scales[a] = scales[k] }
        } else {
            throw ctx.shapeError("Resize needs scales or sizes")
        }
        if spec.coordinates == "tf_crop_and_resize" {
            let roi = try ctx.constant(1).floats().map { Double($0) }
            if roi.count != 2 * axes.count { throw ctx.shapeError("Resize: roi has \(roi.count) values for \(axes.count) axes") }
            spec.roi = [Double](repeating: 0, count: rank) + [Double](repeating: 1, count: rank)
            for (k, a) in axes.enumerated() {
                spec.roi[a] = roi[k]
                spec.roi[rank + a] = roi[axes.count + k]
            }
        }
        if sizes.isEmpty {
            for a in 0..<rank {
                let crop = spec.roi.isEmpty ? 1 : spec.roi[rank + a] - spec.roi[a]
                spec.out[a] = Int((Double(x[a]) * crop * spec.scales[a]).rounded(.down))
            }
        }
        return try build(ctx, spec)
    }

    /// Upsample: scales as height_scale/width_scale (opset 1), a `scales` attribute (7-8) or input (9);
    /// asymmetric coordinates, nearest rounds down.
    static func upsample(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let x = try ctx.shape(0)
        let node = ctx.node
        var scales: [Double]
        if let s = node.floats("scales") {
            scales = s.map { Double($0) }
        } else if ctx.has(1) {
            scales = try ctx.constant(1).floats().map { Double($0) }
        } else if let h = node.float("height_scale"), let w = node.float("width_scale"), x.count == 4 {
            scales = [1, 1, Double(h), Double(w)]
        } else {
            throw ctx.shapeError("Upsample needs scales")
        }
        if scales.count != x.count { throw ctx.shapeError("Upsample: \(scales.count) scales for rank \(x.count)") }
        var mode = node.string("mode") ?? "nearest"
        if mode == "bilinear" { mode = "linear" }
        let out = (0..<x.count).map { Int((Double(x[$0]) * scales[$0]).rounded(.down)) }
        return try build(ctx, Spec(mode: mode, coordinates: "asymmetric", nearestMode: "floor", scales: scales, out: out,
                                   roi: [], extrapolation: 0))
    }

    /// The input coordinate output index `i` on axis `a` maps to.
    static func original(_ i: Int, axis a: Int, input: Int, spec: Spec) -> Double {
        let s = spec.scales[a], lin = Double(input), xf = Double(i)
        // The reference uses the scaled length (not the rounded output size) in these formulas.
        let lout = s * lin
        switch spec.coordinates {
        case "asymmetric": return xf / s
        case "tf_half_pixel_for_nn": return (xf + 0.5) / s
        case "align_corners": return lout == 1 ? 0 : xf * (lin - 1) / (lout - 1)
        case "pytorch_half_pixel": return lout == 1 ? -0.5 : (xf + 0.5) / s - 0.5
        case "half_pixel_symmetric":
            let adjustment = Double(spec.out[a]) / lout
            let offset = lin / 2 * (1 - adjustment)
            return offset + (xf + 0.5) / s - 0.5
        case "tf_crop_and_resize":
            let rank = spec.roi.count / 2
            let start = spec.roi[a], end = spec.roi[rank + a]
            if lout == 1 { return (end - start) * (lin - 1) / 2 + start * (lin - 1) }
            return xf * (end - start) * (lin - 1) / (lout - 1) + start * (lin - 1)
        default: return (xf + 0.5) / s - 0.5  // half_pixel
        }
    }

    static let coordinateModes = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                  "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"]

    static func build(_ ctx: OpContext, _ spec: Spec) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let x = try ctx.shape(0)
        if !coordinateModes.contains(spec.coordinates) {
            throw ctx.unsupported("coordinate_transformation_mode '\(spec.coordinates)' is not supported")
        }
        if spec.out.contains(where: { $0 < 0 }) || spec.scales.contains(where: { !($0 > 0) || !$0.isFinite }) {
            throw ctx.shapeError("Resize: scales must be positive and finite")
        }
        let crop = spec.coordinates == "tf_crop_and_resize"
        switch spec.mode {
        case "nearest":
            if !["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(spec.nearestMode) {
                throw ctx.unsupported("nearest_mode '\(spec.nearestMode)' is not supported")
            }
            var maps: [[Int]] = []
            for a in 0..<x.count {
                var map: [Int] = []
                for i in 0..<spec.out[a] {
                    let o = original(i, axis: a, input: x[a], spec: spec)
                    if crop && (o < 0 || o > Double(x[a] - 1)) { map.append(-1); continue }
                    let r: Double
                    switch spec.nearestMode {
                    case "round_prefer_ceil": r = (o + 0.5).rounded(.down)
                    case "floor": r = o.rounded(.down)
                    case "ceil": r = o.rounded(.up)
                    default: r = (o - 0.5).rounded(.up)  // round_prefer_floor: halves go down
                    }
                    map.append(min(max(Int(r), 0), max(x[a] - 1, 0)))
                }
                maps.append(map)
            }
            let fill = scalarTensor(type, spec.extrapolation)
            let plan = IndexMapGather(outShape: spec.out, maps: maps, srcShape: x, elementSize: size)
            let empty = shapeCount(x) == 0
            return OpBuild(type, spec.out) { i, o in
                let src = i[0]!.data, dst = o[0].data
                return { if !empty { plan.run(src, dst, fill: fill.raw) } }
            }
        case "linear":
            switch type {
            case .float32: return linear(type, x, spec, Float.self, Float.self)
            case .float64: return linear(type, x, spec, Double.self, Double.self)
            case .float16: return linear(type, x, spec, Float16.self, Float.self)
            case .int8: return linear(type, x, spec, Int8.self, Float.self)
            case .uint8: return linear(type, x, spec, UInt8.self, Float.self)
            case .int32: return linear(type, x, spec, Int32.self, Double.self)
            case .int64: return linear(type, x, spec, Int64.self, Double.self)
            default: throw ctx.unsupported("\(ctx.node.opType) mode 'linear' of \(type.name)")
            }
        default:
            if spec.mode == "cubic" { return try ResizeCubic.build(ctx, type, x, spec) }
            throw ctx.unsupported("\(ctx.node.opType) mode '\(spec.mode)' is not supported")
        }
    }

    /// One axis of N-linear interpolation: for each output index the two input rows and their weights.
    struct LinearPass<A: MathFloat> {
        var outer: Int
        var inLen: Int
        var outLen: Int
        var inner: Int
        var i0: [Int]
        var i1: [Int]
        var w0: [A]
        var w1: [A]
        var outside: [Bool]
    }

    /// N-linear as separable 1-D passes (last axis first, as the reference nests them); axes that map
    /// every index onto itself are skipped. Intermediates live in two buffers allocated once here.
    static func linear<T: NumericElement, A: MathFloat>(_ type: ElementType, _ x: [Int], _ spec: Spec,
                                                        _: T.Type, _: A.Type) -> OpBuild {
        let crop = spec.coordinates == "tf_crop_and_resize"
        var passes: [LinearPass<A>] = []
        var current = x
        var largest = 0
        for a in stride(from: x.count - 1, through: 0, by: -1) {
            var pass = LinearPass<A>(outer: shapeCount(Array(current[0..<a])), inLen: x[a], outLen: spec.out[a],
                                     inner: shapeCount(Array(current[(a + 1)...])), i0: [], i1: [], w0: [], w1: [], outside: [])
            var identity = x[a] == spec.out[a]
            for i in 0..<spec.out[a] {
                let o = original(i, axis: a, input: x[a], spec: spec)
                let out = crop && (o < 0 || o > Double(x[a] - 1))
                let f = o.rounded(.down)
                let last = max(x[a] - 1, 0)
                let lo = min(max(Int(f), 0), last), hi = min(max(Int(f) + 1, 0), last)
                let w = o - f
                pass.i0.append(lo)
                pass.i1.append(hi)
                pass.w0.append(A(1 - w))
                pass.w1.append(A(w))
                pass.outside.append(out)
                if out || lo != i || (w != 0 && hi != lo) { identity = false }
            }
            if identity { continue }
            current[a] = spec.out[a]
            passes.append(pass)
            largest = max(largest, shapeCount(current))
        }
        let extrapolation = A(spec.extrapolation)
        let total = shapeCount(spec.out)
        let bytes = shapeCount(x) * type.byteSize
        return OpBuild(type, spec.out) { i, o in
            let src = i[0]!.typed(T.self), dst = o[0].typed(T.self)
            if passes.isEmpty || total == 0 || shapeCount(x) == 0 {
                let raw = i[0]!.data, out = o[0].data
                return { if passes.isEmpty && total > 0 { out.copyMemory(from: raw, byteCount: bytes) } }
            }
            if passes.count == 1 {
                return { run(passes[0], src, dst, extrapolation) }
            }
            // Scratch for intermediates, owned by the kernel closure.
            let scratch = TensorBuffer(byteCount: max(2 * largest * MemoryLayout<A>.stride, 64))
            let b0 = scratch.pointer.assumingMemoryBound(to: A.self), b1 = b0 + largest
            return {
                _ = scratch
                run(passes[0], src, b0, extrapolation)
                var from = b0, to = b1
                for k in 1..<(passes.count - 1) {
                    run(passes[k], from, to, extrapolation)
                    swap(&from, &to)
                }
                run(passes[passes.count - 1], from, dst, extrapolation)
            }
        }
    }

    static func run<S: NumericElement, D: NumericElement, A: MathFloat>(
        _ p: LinearPass<A>, _ src: UnsafeMutablePointer<S>, _ dst: UnsafeMutablePointer<D>, _ extrapolation: A) {
        let inner = p.inner
        let fill = extrapolation.element(as: D.self)
        for o in 0..<p.outer {
            let s = src + o * p.inLen * inner, d = dst + o * p.outLen * inner
            for k in 0..<p.outLen {
                let row = d + k * inner
                if p.outside[k] {
                    for j in 0..<inner { row[j] = fill }
                    continue
                }
                let r0 = s + p.i0[k] * inner, r1 = s + p.i1[k] * inner
                let w0 = p.w0[k], w1 = p.w1[k]
                for j in 0..<inner {
                    row[j] = (w0 * A(element: r0[j]) + w1 * A(element: r1[j])).element(as: D.self)
                }
            }
        }
    }
}
