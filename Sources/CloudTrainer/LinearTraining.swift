// Gemm and MatMul for training over cedge_sgemm. Gradients go to whichever of A and B carries one (an
// activation); constant weights get none. Accumulation into an already-written gradient uses GEMM's beta.
import CEdgeShim
import EdgeRuntime

final class GemmStep: TrainingStep {
    private var transA = false, transB = false
    private var alpha: Float = 1, beta: Float = 1
    private var m = 0, n = 0, k = 0, lda = 0, ldb = 0
    /// C broadcast to [M, N]: rows/cols of C (1 when that axis is broadcast).
    private var cRows = 0, cCols = 0

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let a = try ctx.input(0), b = try ctx.input(1)
        let c: ValueSlot? = ctx.has(2) ? try ctx.input(2) : nil
        let node = ctx.node
        if a.shape.count != 2 || b.shape.count != 2 {
            throw ctx.shapeError("Gemm needs 2-D A and B, got \(describeShape(a.shape)) and \(describeShape(b.shape))")
        }
        let transA = node.int("transA", default: 0) != 0, transB = node.int("transB", default: 0) != 0
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kB = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        if k != kB { throw ctx.shapeError("inner dimensions differ: A gives \(k), B gives \(kB)") }
        var cShape = [0, 0]
        if let c {
            let s = [Int](repeating: 1, count: max(0, 2 - c.shape.count)) + c.shape
            if s.count != 2 || !(s[0] == 1 || s[0] == m) || !(s[1] == 1 || s[1] == n) {
                throw ctx.shapeError("C \(describeShape(c.shape)) does not broadcast to [\(m), \(n)]")
            }
            cShape = s
        }
        let step = GemmStep(node: node, inputs: [a, b, c], outputs: [try ctx.output(shape: [m, n])])
        step.transA = transA
        step.transB = transB
        step.alpha = node.float("alpha", default: 1)
        step.beta = node.float("beta", default: 1)
        step.m = m
        step.n = n
        step.k = k
        step.lda = a.shape[1]
        step.ldb = b.shape[1]
        step.cRows = cShape[0]
        step.cCols = cShape[1]
        return step
    }

    /// C (the bias) is never differentiated: it is a weight.
    override var differentiableInputs: [Int] { [0, 1] }

    override func forward() {
        let y = outputs[0].data
        var betaUsed: Float = 0
        if let c = inputs[2]?.data {
            for i in 0..<m {
                for j in 0..<n { y[i * n + j] = c[(cRows > 1 ? i : 0) * cCols + (cCols > 1 ? j : 0)] }
            }
            betaUsed = beta
        }
        cedge_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, inputs[0]!.data, Int32(lda),
                    inputs[1]!.data, Int32(ldb), betaUsed, y, Int32(n))
    }

    override func backward() {
        guard let dy = outputs[0].grad else { return }
        let a = inputs[0]!.data, b = inputs[1]!.data
        // d op(A) = alpha dY op(B)^T  [M, K];  d op(B) = alpha op(A)^T dY  [K, N].
        if let da = inputs[0]!.grad {
            let acc: Float = accumulate[0] ? 1 : 0
            if !transA {
                cedge_sgemm(0, transB ? 0 : 1, Int32(m), Int32(k), Int32(n), alpha, dy, Int32(n), b, Int32(ldb), acc, da, Int32(k))
            } else {  // A is [K, M]: dA = alpha op(B) dY^T
                cedge_sgemm(transB ? 1 : 0, 1, Int32(k), Int32(m), Int32(n), alpha, b, Int32(ldb), dy, Int32(n), acc, da, Int32(m))
            }
        }
        if let db = inputs[1]!.grad {
            let acc: Float = accumulate[1] ? 1 : 0
            if !transB {
                cedge_sgemm(transA ? 0 : 1, 0, Int32(k), Int32(n), Int32(m), alpha, a, Int32(lda), dy, Int32(n), acc, db, Int32(n))
            } else {  // B is [N, K]: dB = alpha dY^T op(A)
                cedge_sgemm(1, transA ? 1 : 0, Int32(n), Int32(k), Int32(m), alpha, dy, Int32(n), a, Int32(lda), acc, db, Int32(k))
            }
        }
    }
}

/// MatMul with numpy semantics: batched over broadcast leading axes, 1-D operands promoted.
final class MatMulStep: TrainingStep {
    private var m = 0, n = 0, k = 0
    /// Per output batch: (offset of A's matrix, offset of B's matrix), in elements.
    private var offsets: [(Int, Int)] = []

    static func build(_ ctx: StepContext) throws(TrainerError) -> TrainingStep {
        let aSlot = try ctx.input(0), bSlot = try ctx.input(1)
        var a = aSlot.shape, b = bSlot.shape
        if a.isEmpty || b.isEmpty { throw ctx.shapeError("MatMul inputs must have rank >= 1") }
        let aVector = a.count == 1, bVector = b.count == 1
        if aVector { a = [1] + a }
        if bVector { b = b + [1] }
        let m = a[a.count - 2], kA = a[a.count - 1], kB = b[b.count - 2], n = b[b.count - 1]
        if kA != kB { throw ctx.shapeError("inner dimensions differ: \(describeShape(a)) x \(describeShape(b))") }
        let batchA = Array(a[..<(a.count - 2)]), batchB = Array(b[..<(b.count - 2)])
        guard let map = BroadcastMap([batchA + [1], batchB + [1]]) else {
            throw ctx.shapeError("batch dimensions \(describeShape(batchA)) and \(describeShape(batchB)) do not broadcast")
        }
        var out = Array(map.outShape.dropLast())
        var offsets: [(Int, Int)] = []
        for row in 0..<map.rows {
            let oa = map.identity[0] ? row : map.rowOffsets[0][row]
            let ob = map.identity[1] ? row : map.rowOffsets[1][row]
            offsets.append((oa * m * kA, ob * kA * n))
        }
        if !aVector { out.append(m) }
        if !bVector { out.append(n) }
        let step = MatMulStep(node: ctx.node, inputs: [aSlot, bSlot], outputs: [try ctx.output(shape: out)])
        step.m = m
        step.n = n
        step.k = kA
        step.offsets = offsets
        return step
    }

    override var differentiableInputs: [Int] { [0, 1] }

    override func forward() {
        let a = inputs[0]!.data, b = inputs[1]!.data, y = outputs[0].data
        for (i, (oa, ob)) in offsets.enumerated() {
            cedge_sgemm(0, 0, Int32(m), Int32(n), Int32(k), 1, a + oa, Int32(k), b + ob, Int32(n), 0, y + i * m * n, Int32(n))
        }
    }

    override func backward() {
        guard let dy = outputs[0].grad else { return }
        let a = inputs[0]!.data, b = inputs[1]!.data
        // A matrix shared by several output batches (broadcast) receives the sum of their gradients, so
        // a gradient that is not accumulated into is zeroed once and every batch then adds.
        if let da = inputs[0]!.grad {
            if !accumulate[0] { da.initialize(repeating: 0, count: inputs[0]!.count) }
            for (i, (oa, ob)) in offsets.enumerated() {
                cedge_sgemm(0, 1, Int32(m), Int32(k), Int32(n), 1, dy + i * m * n, Int32(n), b + ob, Int32(n), 1, da + oa, Int32(k))
            }
        }
        if let db = inputs[1]!.grad {
            if !accumulate[1] { db.initialize(repeating: 0, count: inputs[1]!.count) }
            for (i, (oa, ob)) in offsets.enumerated() {
                cedge_sgemm(1, 0, Int32(k), Int32(n), Int32(m), 1, a + oa, Int32(k), dy + i * m * n, Int32(n), 1, db + ob, Int32(n))
            }
        }
    }
}
