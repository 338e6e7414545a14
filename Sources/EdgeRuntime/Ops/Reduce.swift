// Reductions over axes (ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp) and ArgMax/ArgMin.

/// Where the elements of each reduction live. With the reduced axes forming one block (after dropping
/// size-1 axes and merging neighbours), output j = (o, i) of an [outer, n, inner] view reads
/// base + r * inner; otherwise plan-time tables hold each output's base and each reduced offset.
struct ReduceLayout {
    let outCount: Int
    let n: Int
    let inner: Int
    let bases: [Int]
    let offsets: [Int]
    var tables: Bool { !offsets.isEmpty }

    init(shape: [Int], axes: [Int]) {
        var groups: [(size: Int, reduced: Bool)] = []
        for (a, d) in shape.enumerated() where d != 1 {
            let r = axes.contains(a)
            if let last = groups.last, last.reduced == r { groups[groups.count - 1].size *= d } else { groups.append((d, r)) }
        }
        var n = 1, kept = 1
        for a in 0..<shape.count { if axes.contains(a) { n *= shape[a] } else { kept *= shape[a] } }
        self.n = n
        outCount = kept
        let reducedGroups = groups.filter { $0.reduced }.count
        if reducedGroups <= 1 {
            var inner = 1, seen = false
            for g in groups { if g.reduced { seen = true } else if seen { inner *= g.size } }
            self.inner = reducedGroups == 0 ? 1 : inner
            bases = []
            offsets = []
            return
        }
        inner = 1
        let strides = stridesOf(shape)
        let keptAxes = (0..<shape.count).filter { !axes.contains($0) }
        let reducedAxes = (0..<shape.count).filter { axes.contains($0) }
        func table(_ list: [Int]) -> [Int] {
            var out = [0]
            for a in list {  // row-major: the last axis varies fastest
                var next: [Int] = []
                next.reserveCapacity(out.count * shape[a])
                for base in out { for k in 0..<shape[a] { next.append(base + k * strides[a]) } }
                out = next
            }
            return out
        }
        bases = table(keptAxes)
        offsets = table(reducedAxes)
    }

    /// Offset of output j's first element.
    @inline(__always)
    func base(_ j: Int) -> Int {
        if tables { return bases[j] }
        let o = j / inner
        return o * n * inner + (j - o * inner)
    }
}

/// A reduction as (initial, pre-map, combine, post-map), specialised per operator at compile time.
protocol ReduceOperator {
    static func initial<A: MathFloat>() -> A
    static func pre<A: MathFloat>(_ x: A) -> A
    static func combine<A: MathFloat>(_ a: A, _ b: A) -> A
    static func post<A: MathFloat>(_ a: A, count: Int) -> A
}

extension ReduceOperator {
    static func initial<A: MathFloat>() -> A { 0 }
    static func pre<A: MathFloat>(_ x: A) -> A { x }
    static func combine<A: MathFloat>(_ a: A, _ b: A) -> A { a + b }
    static func post<A: MathFloat>(_ a: A, count: Int) -> A { a }
}

enum SumReduce: ReduceOperator {}
enum MeanReduce: ReduceOperator {
    static func post<A: MathFloat>(_ a: A, count: Int) -> A { a / A(count) }
}
enum ProdReduce: ReduceOperator {
    static func initial<A: MathFloat>() -> A { 1 }
    static func combine<A: MathFloat>(_ a: A, _ b: A) -> A { a * b }
}
enum L1Reduce: ReduceOperator {
    static func pre<A: MathFloat>(_ x: A) -> A { x.magnitude }
}
enum L2Reduce: ReduceOperator {
    static func pre<A: MathFloat>(_ x: A) -> A { x * x }
    static func post<A: MathFloat>(_ a: A, count: Int) -> A { a.squareRoot() }
}
enum SumSquareReduce: ReduceOperator {
    static func pre<A: MathFloat>(_ x: A) -> A { x * x }
}
enum LogSumReduce: ReduceOperator {
    static func post<A: MathFloat>(_ a: A, count: Int) -> A { A.log(a) }
}

enum ReduceOps {
    enum Kind { case sum, mean, max, min, prod, l1, l2, sumSquare, logSum, logSumExp }

    /// Axes: attribute before opset 18 (ReduceSum: before 13), input #1 since; keepdims (default 1);
    /// noop_with_empty_axes makes an empty axes list the identity instead of reducing everything.
    static func reduce(_ ctx: OpContext, _ kind: Kind) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let given = try ctx.intsFromAttributeOrInput("axes", input: 1) ?? []
        let keep = ctx.node.int("keepdims", default: 1) != 0
        if given.isEmpty && ctx.node.int("noop_with_empty_axes", default: 0) != 0 {
            _ = try denseByteSize(ctx, type)
            return OpBuild(outputs: [(type, shape)], aliasesInput0: true, makeKernel: aliasKernel)
        }
        let axes = given.isEmpty ? Array(0..<shape.count) : try ctx.normalizedAxes(given, rank: shape.count)
        var out: [Int] = []
        for (a, d) in shape.enumerated() {
            if !axes.contains(a) { out.append(d) } else if keep { out.append(1) }
        }
        let layout = ReduceLayout(shape: shape, axes: axes)
        switch type {
        case .float32: return make(kind, type, out, layout, Float.self, Float.self)
        case .float64: return make(kind, type, out, layout, Double.self, Double.self)
        case .float16: return make(kind, type, out, layout, Float16.self, Float.self)
        case .bfloat16: return make(kind, type, out, layout, BFloat16Element.self, Float.self)
        case .int32: return make(kind, type, out, layout, Int32.self, Double.self)
        case .int64: return make(kind, type, out, layout, Int64.self, Double.self)
        case .uint32: return make(kind, type, out, layout, UInt32.self, Double.self)
        case .uint64: return make(kind, type, out, layout, UInt64.self, Double.self)
        case .int8: return make(kind, type, out, layout, Int8.self, Double.self)
        case .uint8: return make(kind, type, out, layout, UInt8.self, Double.self)
        default: throw ctx.unsupported("\(ctx.node.opType) of \(type.name)")
        }
    }

    static func make<T: NumericElement, A: MathFloat>(_ kind: Kind, _ type: ElementType, _ out: [Int],
                                                      _ layout: ReduceLayout, _: T.Type, _: A.Type) -> OpBuild {
        OpBuild(type, out) { i, o in
            let x = i[0]!.typed(T.self), y = o[0].typed(T.self)
            switch kind {
            case .sum: return { accumulate(layout, x, y, A.self, SumReduce.self) }
            case .mean: return { accumulate(layout, x, y, A.self, MeanReduce.self) }
            case .prod: return { accumulate(layout, x, y, A.self, ProdReduce.self) }
            case .l1: return { accumulate(layout, x, y, A.self, L1Reduce.self) }
            case .l2: return { accumulate(layout, x, y, A.self, L2Reduce.self) }
            case .sumSquare: return { accumulate(layout, x, y, A.self, SumSquareReduce.self) }
            case .logSum: return { accumulate(layout, x, y, A.self, LogSumReduce.self) }
            case .logSumExp: return { logSumExp(layout, x, y, A.self) }
            case .max: return { extreme(layout, x, y, max: true) }
            case .min: return { extreme(layout, x, y, max: false) }
            }
        }
    }

    static func accumulate<T: NumericElement, A: MathFloat, Op: ReduceOperator>(
        _ layout: ReduceLayout, _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _: A.Type, _: Op.Type) {
        let n = layout.n, inner = layout.inner
        for j in 0..<layout.outCount {
            let base = layout.base(j)
            var acc: A = Op.initial()
            if layout.tables {
                for off in layout.offsets { acc = Op.combine(acc, Op.pre(A(element: x[base + off]))) }
            } else {
                var p = x + base
                for _ in 0..<n {
                    acc = Op.combine(acc, Op.pre(A(element: p.pointee)))
                    p += inner
                }
            }
            y[j] = Op.post(acc, count: n).element(as: T.self)
        }
    }

    /// log(sum(exp(x))) computed as m + log(sum(exp(x - m))) so large inputs do not overflow.
    static func logSumExp<T: NumericElement, A: MathFloat>(
        _ layout: ReduceLayout, _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _: A.Type) {
        let n = layout.n, inner = layout.inner
        for j in 0..<layout.outCount {
            let base = layout.base(j)
            @inline(__always) func at(_ r: Int) -> A {
                A(element: x[base + (layout.tables ? layout.offsets[r] : r * inner)])
            }
            var m = -A.infinity
            for r in 0..<n { let v = at(r); if v > m { m = v } }
            if !m.isFinite {
                // All -inf (or an inf/NaN present): the direct formula gives the right special value.
                var s: A = 0
                for r in 0..<n { s += A.exp(at(r)) }
                y[j] = A.log(s).element(as: T.self)
                continue
            }
            var s: A = 0
            for r in 0..<n { s += A.exp(at(r) - m) }
            y[j] = (m + A.log(s)).element(as: T.self)
        }
    }

    /// Max/Min in the element type itself (exact for 64-bit integers); NaN propagates.
    static func extreme<T: NumericElement>(_ layout: ReduceLayout, _ x: UnsafeMutablePointer<T>,
                                           _ y: UnsafeMutablePointer<T>, max isMax: Bool) {
        let n = layout.n, inner = layout.inner
        let empty = T(double: isMax ? -Double.infinity : Double.infinity)
        for j in 0..<layout.outCount {
            let base = layout.base(j)
            if n == 0 { y[j] = empty; continue }
            var acc = x[base]
            for r in 1..<max(n, 1) {
                if acc != acc { break }  // NaN
                let v = x[base + (layout.tables ? layout.offsets[r] : r * inner)]
                if v != v || (isMax ? v > acc : v < acc) { acc = v }
            }
            y[j] = acc
        }
    }

    // MARK: ArgMax / ArgMin

    static func argExtreme(_ ctx: OpContext, max isMax: Bool) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let axis = try ctx.axis(ctx.node.int("axis", default: 0), rank: shape.count)
        let keep = ctx.node.int("keepdims", default: 1) != 0
        let last = ctx.node.int("select_last_index", default: 0) != 0
        if shape.isEmpty || shape[axis] == 0 {
            throw ctx.shapeError("\(ctx.node.opType) over an empty axis")
        }
        var out = shape
        if keep { out[axis] = 1 } else { out.remove(at: axis) }
        let outer = shapeCount(Array(shape[0..<axis])), n = shape[axis]
        let inner = shapeCount(Array(shape[(axis + 1)...]))
        func make<T: NumericElement>(_: T.Type) -> OpBuild {
            OpBuild(.int64, out) { i, o in
                let x = i[0]!.typed(T.self), y = o[0].i64
                return {
                    for a in 0..<outer {
                        for b in 0..<inner {
                            let p = x + a * n * inner + b
                            var best = p[0], at = 0
                            for r in 1..<n {
                                if best != best { break }  // the first NaN wins, as in numpy
                                let v = p[r * inner]
                                let better = isMax ? v > best : v < best
                                if v != v || better || (last && v == best) { best = v; at = r }
                            }
                            y[a * inner + b] = Int64(at)
                        }
                    }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .float16: return make(Float16.self)
        case .int32: return make(Int32.self)
        case .int64: return make(Int64.self)
        case .uint32: return make(UInt32.self)
        case .uint64: return make(UInt64.self)
        case .int8: return make(Int8.self)
        case .uint8: return make(UInt8.self)
        case .int16: return make(Int16.self)
        case .uint16: return make(UInt16.self)
        default: throw ctx.unsupported("\(ctx.node.opType) of \(type.name)")
        }
    }
}

// MARK: - TopK

enum TopKOps {
    /// TopK: k as attribute (opset 1) or constant input #1 (10+); largest/sorted since 11. Ties keep the
    /// lower index first; NaN orders above every number. Results are always sorted.
    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let shape = try ctx.shape(0)
        if shape.isEmpty { throw ctx.shapeError("TopK needs an input of rank >= 1") }
        let axis = try ctx.axis(ctx.node.int("axis", default: -1), rank: shape.count)
        let k: Int
        if let attr = ctx.node.int("k") { k = attr } else {
            let given = try ctx.constantInts(1)
            if given.count != 1 { throw ctx.shapeError("TopK: K must hold one value, it holds \(given.count)") }
            k = given[0]
        }
        let n = shape[axis]
        if k < 0 || k > n { throw ctx.shapeError("TopK: k = \(k) but axis \(axis) has \(n) elements") }
        let largest = ctx.node.int("largest", default: 1) != 0
        var out = shape
        out[axis] = k
        let outer = shapeCount(Array(shape[0..<axis])), inner = shapeCount(Array(shape[(axis + 1)...]))
        func make<T: NumericElement>(_: T.Type) -> OpBuild {
            OpBuild(outputs: [(type, out), (.int64, out)]) { i, o in
                let x = i[0]!.typed(T.self), values = o[0].typed(T.self), indices = o[1].i64
                let scratch = TensorBuffer(byteCount: max(n, 1) * MemoryLayout<Int>.stride)
                let heap = scratch.pointer.assumingMemoryBound(to: Int.self)
                return {
                    _ = scratch
                    for a in 0..<outer {
                        for b in 0..<inner {
                            let base = x + a * n * inner + b
                            let dst = a * k * inner + b
                            select(base, n, inner, k, largest, heap) { j, index in
                                values[dst + j * inner] = base[index * inner]
                                indices[dst + j * inner] = Int64(index)
                            }
                        }
                    }
                }
            }
        }
        switch type {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .float16: return make(Float16.self)
        case .int32: return make(Int32.self)
        case .int64: return make(Int64.self)
        case .int8: return make(Int8.self)
        case .uint8: return make(UInt8.self)
        case .int16: return make(Int16.self)
        case .uint16: return make(UInt16.self)
        case .uint32: return make(UInt32.self)
        case .uint64: return make(UInt64.self)
        default: throw ctx.unsupported("TopK of \(type.name)")
        }
    }

    /// Heap selection over n strided elements: O(n + k log n), no allocation (the heap is scratch).
    @inline(__always)
    static func select<T: NumericElement>(_ x: UnsafeMutablePointer<T>, _ n: Int, _ stride: Int, _ k: Int, _ largest: Bool,
                                          _ heap: UnsafeMutablePointer<Int>, _ emit: (Int, Int) -> Void) {
        // a comes before b in the result
        @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
            let va = x[a * stride], vb = x[b * stride]
            let aNaN = va != va, bNaN = vb != vb
            if aNaN || bNaN {
                if aNaN && bNaN { return a < b }
                return largest ? aNaN : bNaN
            }
            if va == vb { return a < b }
            return largest ? va > vb : va < vb
        }
        func siftDown(_ start: Int, _ count: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var top = i
                if l < count && before(heap[l], heap[top]) { top = l }
                if r < count && before(heap[r], heap[top]) { top = r }
                if top == i { return }
                let t = heap[i]; heap[i] = heap[top]; heap[top] = t
                i = top
            }
        }
        for i in 0..<n { heap[i] = i }
        var i = n / 2 - 1
        while i >= 0 { siftDown(i, n); i -= 1 }
        var count = n
        for j in 0..<k {
            emit(j, heap[0])
            count -= 1
            heap[0] = heap[count]
            siftDown(0, count)
        }
    }
}
