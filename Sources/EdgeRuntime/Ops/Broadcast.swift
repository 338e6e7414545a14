// Numpy-style broadcasting: output shapes, and an iteration plan that keeps the innermost loop contiguous.

/// The broadcast of several shapes, or nil when they are incompatible.
func broadcastShapes(_ shapes: [[Int]]) -> [Int]? {
    let rank = shapes.map { $0.count }.max() ?? 0
    var out = [Int](repeating: 1, count: rank)
    for shape in shapes {
        let offset = rank - shape.count
        for (i, d) in shape.enumerated() {
            let j = i + offset
            if out[j] == 1 { out[j] = d } else if d != 1 && d != out[j] { return nil }
        }
    }
    return out
}

/// For each operand, its element strides along the output's axes (0 where broadcast).
struct BroadcastPlan {
    let outShape: [Int]
    let operandStrides: [[Int]]
    /// Every operand is either the full output or a single element: no index arithmetic needed.
    let trivial: Bool
    /// In the trivial case, which operands hold the full output (the others hold one element).
    let full: [Bool]

    init(operands: [[Int]], out: [Int]) {
        outShape = out
        var strides: [[Int]] = []
        var trivial = true
        var full: [Bool] = []
        let total = shapeCount(out)
        for shape in operands {
            let own = stridesOf(shape)
            let offset = out.count - shape.count
            var s = [Int](repeating: 0, count: out.count)
            for (i, d) in shape.enumerated() where d != 1 || out[i + offset] == 1 { s[i + offset] = own[i] }
            strides.append(s)
            let n = shapeCount(shape)
            if n != total && n != 1 { trivial = false }
            full.append(n == total)
        }
        operandStrides = strides
        self.trivial = trivial
        self.full = full
    }

    /// Calls body(outIndex, operand offsets) for every output row of the innermost axis:
    /// body(start, offsets, innerCount, innerStrides).
    @inline(__always)
    func forEachRow(_ body: (_ outStart: Int, _ offsets: [Int], _ count: Int, _ innerStrides: [Int]) -> Void) {
        let rank = outShape.count
        if rank == 0 {
            body(0, [Int](repeating: 0, count: operandStrides.count), 1, [Int](repeating: 0, count: operandStrides.count))
            return
        }
        let inner = outShape[rank - 1]
        let innerStrides = operandStrides.map { $0[rank - 1] }
        let rows = shapeCount(outShape) / max(inner, 1)
        if inner == 0 || rows == 0 { return }
        var index = [Int](repeating: 0, count: rank)
        var offsets = [Int](repeating: 0, count: operandStrides.count)
        for row in 0..<rows {
            body(row * inner, offsets, inner, innerStrides)
            // advance the multi-index over axes 0..<rank-1
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                for k in 0..<offsets.count { offsets[k] += operandStrides[k][axis] }
                if index[axis] < outShape[axis] { break }
                for k in 0..<offsets.count { offsets[k] -= operandStrides[k][axis] * outShape[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// out[i] = op(a[i], b[i]) with broadcasting; T and U may differ (comparisons write Bool-as-UInt8).
@inline(__always)
func broadcastBinary<T, U>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<U>,
                           _ plan: BroadcastPlan, _ op: (T, T) -> U) {
    let n = shapeCount(plan.outShape)
    if plan.trivial {
        let aStep = plan.full[0] ? 1 : 0
        let bStep = plan.full[1] ? 1 : 0
        if aStep == 1 && bStep == 1 {
            for i in 0..<n { out[i] = op(a[i], b[i]) }
        } else if aStep == 1 {
            let s = b[0]
            for i in 0..<n { out[i] = op(a[i], s) }
        } else if bStep == 1 {
            let s = a[0]
            for i in 0..<n { out[i] = op(s, b[i]) }
        } else if n > 0 {
            out[0] = op(a[0], b[0])
        }
        return
    }
    plan.forEachRow { start, offsets, count, inner in
        let pa = a + offsets[0], pb = b + offsets[1], po = out + start
        let sa = inner[0], sb = inner[1]
        if sa == 1 && sb == 1 {
            for i in 0..<count { po[i] = op(pa[i], pb[i]) }
        } else if sa == 1 {
            let s = pb[0]
            for i in 0..<count { po[i] = op(pa[i], s) }
        } else if sb == 1 {
            let s = pa[0]
            for i in 0..<count { po[i] = op(s, pb[i]) }
        } else {
            let v = op(pa[0], pb[0])
            for i in 0..<count { po[i] = v }
        }
    }
}

/// Copies `src` broadcast to the output shape (Expand, and the first operand of variadic ops).
func broadcastCopy(_ src: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, elementSize: Int, _ plan: BroadcastPlan) {
    plan.forEachRow { start, offsets, count, inner in
        let from = src + offsets[0] * elementSize
        let to = out + start * elementSize
        if inner[0] == 1 {
            to.copyMemory(from: from, byteCount: count * elementSize)
        } else {
            for i in 0..<count { (to + i * elementSize).copyMemory(from: from, byteCount: elementSize) }
        }
    }
}
