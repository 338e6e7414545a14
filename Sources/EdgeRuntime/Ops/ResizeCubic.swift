// Cubic mode of Resize: separable 4-tap passes (cubic_coeff_a, exclude_outside) over the coordinate
// modes of Resize.swift. Taps and weights are tabulated at plan time; kernels only blend.

enum ResizeCubic {
    /// One axis: for each output index, four input rows and their weights (or `outside`: extrapolate).
    struct Pass<A: MathFloat> {
        var outer: Int
        var inLen: Int
        var outLen: Int
        var inner: Int
        var taps: [Int]       // 4 per output index, already clamped into [0, inLen)
        var weights: [A]      // 4 per output index
        var outside: [Bool]
    }

    /// Keys' cubic convolution kernel with parameter a, at distance s >= 0.
    static func kernel(_ s: Double, _ a: Double) -> Double {
        if s <= 1 { return ((a + 2) * s - (a + 3)) * s * s + 1 }
        if s < 2 { return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a }
        return 0
    }

    /// Taps and weights of input coordinate `o` on an axis of `len` elements. As in the ONNX reference,
    /// the four taps are the nearest input indices with the fraction in (0, 1] (so an integer coordinate
    /// sits on the third tap), indices beyond the edges repeat the edge value (up to two beyond each
    /// edge; farther windows slide inward), and exclude_outside drops such taps and renormalises.
    static func taps(_ o: Double, len: Int, a: Double, excludeOutside: Bool) -> (index: [Int], weight: [Double]) {
        let base = o.rounded(.up) - 1
        let ratio = o - base
        // A window of 4 inside the edge-padded range [-2, len + 1].
        let start = Swift.min(Swift.max(Int(base) - 1, -2), len - 2)
        var weights = [kernel(ratio + 1, a), kernel(ratio, a), kernel(1 - ratio, a), kernel(2 - ratio, a)]
        var index: [Int] = []
        for t in 0..<4 {
            let j = start + t
            if excludeOutside && (j < 0 || j >= len) { weights[t] = 0 }
            index.append(Swift.min(Swift.max(j, 0), len - 1))
        }
        if excludeOutside {
            let sum = weights[0] + weights[1] + weights[2] + weights[3]
            if sum != 0 { for t in 0..<4 { weights[t] /= sum } }
        }
        return (index, weights)
    }

    static func build(_ ctx: OpContext, _ type: ElementType, _ x: [Int], _ spec: ResizeOps.Spec) throws(ModelLoadError) -> OpBuild {
        let a = Double(ctx.node.float("cubic_coeff_a", default: -0.75))
        let exclude = ctx.node.int("exclude_outside", default: 0) != 0
        switch type {
        case .float32: return make(type, x, spec, a, exclude, Float.self, Float.self)
        case .float64: return make(type, x, spec, a, exclude, Double.self, Double.self)
        case .float16: return make(type, x, spec, a, exclude, Float16.self, Float.self)
        default: throw ctx.unsupported("\(ctx.node.opType) mode 'cubic' of \(type.name)")
        }
    }

    /// Last axis first, as the reference nests its 1-D interpolations (this matters for tf_crop_and_resize,
    /// whose extrapolated values are blended along outer axes). Axes that map every index onto itself are
    /// skipped. Intermediates live in two buffers allocated once with the kernel.
    static func make<T: NumericElement, A: MathFloat>(_ type: ElementType, _ x: [Int], _ spec: ResizeOps.Spec, _ a: Double,
                                                      _ exclude: Bool, _: T.Type, _: A.Type) -> OpBuild {
        let crop = spec.coordinates == "tf_crop_and_resize"
        var passes: [Pass<A>] = []
        var current = x
        var largest = 0
        for axis in stride(from: x.count - 1, through: 0, by: -1) {
            let len = x[axis]
            var pass = Pass<A>(outer: shapeCount(Array(current[0..<axis])), inLen: len, outLen: spec.out[axis],
                               inner: shapeCount(Array(current[(axis + 1)...])), taps: [], weights: [], outside: [])
            var identity = len == spec.out[axis]
            for i in 0..<spec.out[axis] {
                let o = ResizeOps.original(i, axis: axis, input: len, spec: spec)
                let out = crop && (o < 0 || o > Double(len - 1))
                if out || o != Double(i) { identity = false }
                pass.outside.append(out)
                let (index, weight) = len > 0 ? taps(o, len: len, a: a, excludeOutside: exclude) : ([0, 0, 0, 0], [0, 0, 0, 0])
                pass.taps += index
                for w in weight { pass.weights.append(A(w)) }
            }
            if identity { continue }
            current[axis] = spec.out[axis]
            passes.append(pass)
            largest = Swift.max(largest, shapeCount(current))
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
            if passes.count == 1 { return { run(passes[0], src, dst, extrapolation) } }
            let scratch = TensorBuffer(byteCount: Swift.max(2 * largest * MemoryLayout<A>.stride, 64))
            let b0 = scratch.pointer.assumingMemoryBound(to: A.self), b1 = b0 + largest
            return {
                _ = scratch  // the closure owns the scratch
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
        _ p: Pass<A>, _ src: UnsafeMutablePointer<S>, _ dst: UnsafeMutablePointer<D>, _ extrapolation: A) {
        let inner = p.inner
        let fill = extrapolation.element(as: D.self)
        for q in 0..<p.outer {
            let s = src + q * p.inLen * inner, d = dst + q * p.outLen * inner
            for k in 0..<p.outLen {
                let row = d + k * inner
                if p.outside[k] {
                    for j in 0..<inner { row[j] = fill }
                    continue
                }
                let r0 = s + p.taps[4 * k] * inner, r1 = s + p.taps[4 * k + 1] * inner
                let r2 = s + p.taps[4 * k + 2] * inner, r3 = s + p.taps[4 * k + 3] * inner
                let w0 = p.weights[4 * k], w1 = p.weights[4 * k + 1], w2 = p.weights[4 * k + 2], w3 = p.weights[4 * k + 3]
                for j in 0..<inner {
                    let v = w0 * A(element: r0[j]) + w1 * A(element: r1[j]) + w2 * A(element: r2[j]) + w3 * A(element: r3[j])
                    row[j] = v.element(as: D.self)
                }
            }
        }
    }
}
