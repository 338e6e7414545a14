// MatMul (numpy semantics: batched, broadcast batch dims, 1-D promotion) and Gemm, over cedge_sgemm.
import CEdgeShim

enum MatMul {
    static func matmul(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        try ctx.requireFloat32(1)
        var a = try ctx.shape(0), b = try ctx.shape(1)
        if a.isEmpty || b.isEmpty { throw ctx.shapeError("MatMul inputs must have rank >= 1") }
        let aVector = a.count == 1, bVector = b.count == 1
        if aVector { a = [1] + a }
        if bVector { b = b + [1] }
        let m = a[a.count - 2], kA = a[a.count - 1], kB = b[b.count - 2], n = b[b.count - 1]
        if kA != kB { throw ctx.shapeError("inner dimensions differ: \(describeShape(a)) x \(describeShape(b))") }
        let batchA = Array(a[..<(a.count - 2)]), batchB = Array(b[..<(b.count - 2)])
        guard let batch = broadcastShapes([batchA, batchB]) else {
            throw ctx.shapeError("batch dimensions \(describeShape(batchA)) and \(describeShape(batchB)) do not broadcast")
        }
        var out = batch
        if !aVector { out.append(m) }
        if !bVector { out.append(n) }
        // Offsets of each batch's A and B matrices, fixed at plan time.
        let plan = BroadcastPlan(operands: [batchA, batchB], out: batch)
        var offsets: [(Int, Int)] = []
        plan.forEachRow { _, offs, count, inner in
            for j in 0..<count { offsets.append(((offs[0] + j * inner[0]) * m * kA, (offs[1] + j * inner[1]) * kA * n)) }
        }
        if batch.isEmpty { offsets = [(0, 0)] }
        return OpBuild(.float32, out) { i, o in
            let ap = i[0]!.f32, bp = i[1]!.f32, yp = o[0].f32
            return {
                for (bi, (oa, ob)) in offsets.enumerated() {
                    cedge_sgemm(0, 0, Int32(m), Int32(n), Int32(kA), 1, ap + oa, Int32(kA), bp + ob, Int32(n), 0,
                                yp + bi * m * n, Int32(n))
                }
            }
        }
    }

    static func gemm(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        try ctx.requireFloat32(0)
        try ctx.requireFloat32(1)
        let node = ctx.node
        let transA = node.int("transA", default: 0) != 0, transB = node.int("transB", default: 0) != 0
        let alpha = node.float("alpha", default: 1), beta = node.float("beta", default: 1)
        let a = try ctx.shape(0), b = try ctx.shape(1)
        if a.count != 2 || b.count != 2 { throw ctx.shapeError("Gemm needs 2-D A and B, got \(describeShape(a)) and \(describeShape(b))") }
        let m = transA ? a[1] : a[0], k = transA ? a[0] : a[1]
        let kB = transB ? b[1] : b[0], n = transB ? b[0] : b[1]
        if k != kB { throw ctx.shapeError("inner dimensions differ: A gives \(k), B gives \(kB)") }
        var cPlan: BroadcastPlan? = nil
        if ctx.has(2) {
            try ctx.requireFloat32(2)
            let c = try ctx.shape(2)
            guard let bc = broadcastShapes([c, [m, n]]), bc == [m, n] else {
                throw ctx.shapeError("C \(describeShape(c)) does not broadcast to [\(m), \(n)]")
            }
            cPlan = BroadcastPlan(operands: [c], out: [m, n])
        }
        return OpBuild(.float32, [m, n]) { i, o in
            let ap = i[0]!.f32, bp = i[1]!.f32, yp = o[0].f32
            let cp = cPlan != nil ? i[2]!.f32 : nil
            let lda = Int32(a[1]), ldb = Int32(b[1])
            return {
                var betaUsed: Float = 0
                if let cPlan, let cp {
                    broadcastCopy(cp, yp, elementSize: 4, cPlan)
                    betaUsed = beta
                }
                cedge_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, ap, lda, bp, ldb,
                            betaUsed, yp, Int32(n))
            }
        }
    }
}
