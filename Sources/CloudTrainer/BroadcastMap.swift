// Numpy-style broadcasting of two operands to one output, precomputed per output row (the last axis is
// the contiguous run), so the forward reads and the backward reductions are plain pointer loops.
import EdgeRuntime

struct BroadcastMap {
    let outShape: [Int]
    let rowLength: Int
    let rows: Int
    /// Operand k has the output's shape (no broadcasting): flat index i maps to i.
    let identity: [Bool]
    /// Offset of each output row's first element in operand k (empty when identity[k]).
    let rowOffsets: [[Int]]
    /// Step along the last axis in operand k: 1, or 0 when that axis is broadcast.
    let innerStride: [Int]

    /// nil when the shapes do not broadcast.
    init?(_ shapes: [[Int]]) {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            for d in 0..<rank where padded[d] != 1 {
                if out[d] != 1 && out[d] != padded[d] { return nil }
                out[d] = padded[d]
            }
        }
        outShape = out
        rowLength = rank == 0 ? 1 : out[rank - 1]
        rows = rowLength == 0 ? 0 : shapeCount(out) / rowLength
        var identity: [Bool] = [], offsets: [[Int]] = [], inner: [Int] = []
        for s in shapes {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            let same = padded == out
            identity.append(same)
            var strides = [Int](repeating: 0, count: rank)
            var running = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                strides[d] = padded[d] == 1 ? 0 : running
                running *= padded[d]
            }
            inner.append(rank == 0 ? 0 : strides[rank - 1])
            if same {
                offsets.append([])
                continue
            }
            // Walk the output's leading axes like an odometer.
            var rowOffs = [Int](repeating: 0, count: rows)
            var index = [Int](repeating: 0, count: max(rank - 1, 0))
            var offset = 0
            for r in 0..<rows {
                rowOffs[r] = offset
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    offset += strides[d]
                    if index[d] < out[d] { break }
                    offset -= strides[d] * index[d]
                    index[d] = 0
                    d -= 1
                }
            }
            offsets.append(rowOffs)
        }
        self.identity = identity
        rowOffsets = offsets
        innerStride = inner
    }
}
