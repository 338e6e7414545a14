// Data movement that rearranges elements: Transpose, Concat, Split, Slice, Gather, GatherElements,
// GatherND, Tile, Pad, DepthToSpace, SpaceToDepth. All byte copies, so every fixed-size type works.

enum LayoutOps {
    /// Transpose (default perm reverses the axes).
    static func transpose(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        let rank = input.count
        let perm = ctx.node.ints("perm") ?? Array((0..<rank).reversed())
        if perm.sorted() != Array(0..<rank) {
            throw ctx.shapeError("Transpose: perm \(describeInts(perm)) is not a permutation of \(rank) axes")
        }
        let own = stridesOf(input)
        let plan = StridedCopy(shape: perm.map { input[$0] }, strides: perm.map { own[$0] }, elementSize: size)
        return OpBuild(type, perm.map { input[$0] }) { i, o in
            let src = i[0]!.data, dst = o[0].data
            return { plan.run(src, dst) }
        }
    }

    /// Concat along an axis: per outer index, each input's block in turn.
    static func concat(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let n = ctx.node.inputs.count
        if n == 0 { throw ctx.shapeError("Concat needs at least one input") }
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let first = try ctx.shape(0)
        // Opsets 1-3 default the axis to 1; it is required since.
        guard let a = ctx.node.int("axis") ?? (ctx.opset < 4 ? 1 : nil) else {
            throw ctx.shapeError("Concat needs an axis attribute")
        }
        let axis = try ctx.axis(a, rank: first.count)
        var out = first
        out[axis] = 0
        var blockBytes: [Int] = []
        for k in 0..<n {
            let info = try ctx.input(k)
            if info.type != type { throw ctx.unsupported("inputs have different element types (\(type.name), \(info.type.name))") }
            var ok = info.shape.count == first.count
            if ok { for d in 0..<first.count where d != axis && info.shape[d] != first[d] { ok = false } }
            if !ok {
                throw ctx.shapeError("Concat: input #\(k) has shape \(describeShape(info.shape)), incompatible with \(describeShape(first)) along axis \(axis)")
            }
            out[axis] += info.shape[axis]
            blockBytes.append(shapeCount(Array(info.shape[axis...])) * size)
        }
        let outer = shapeCount(Array(first[0..<axis]))
        return OpBuild(type, out) { i, o in
            let srcs = i.map { $0!.data }
            let dst = o[0].data
            return {
                var d = dst
                for r in 0..<outer {
                    for (k, bytes) in blockBytes.enumerated() where bytes > 0 {
                        d.copyMemory(from: srcs[k] + r * bytes, byteCount: bytes)
                        d += bytes
                    }
                }
            }
        }
    }

    /// Split: sizes from input #1 (opset 13+, and opset 1), the `split` attribute (opsets 2-12), or
    /// equal parts (num_outputs since opset 18 allows a smaller last part).
    static func split(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        let axis = try ctx.axis(ctx.node.int("axis", default: 0), rank: input.count)
        let dim = input[axis]
        let count = ctx.node.outputs.count
        var sizes: [Int]
        if let given = try ctx.intsFromAttributeOrInput("split", input: 1) {
            sizes = given
        } else if let parts = ctx.node.int("num_outputs") {
            if parts < 1 || parts != count { throw ctx.shapeError("Split: num_outputs \(parts) but \(count) outputs") }
            let chunk = (dim + parts - 1) / parts
            sizes = [Int](repeating: chunk, count: parts - 1)
            sizes.append(dim - chunk * (parts - 1))
            if sizes[parts - 1] < 0 { throw ctx.shapeError("Split: cannot split \(dim) into \(parts) parts") }
        } else {
            if count == 0 || dim % count != 0 {
                throw ctx.shapeError("Split: dimension \(axis) (\(dim)) does not split evenly into \(count) outputs")
            }
            sizes = [Int](repeating: dim / count, count: count)
        }
        if sizes.count != count || sizes.contains(where: { $0 < 0 }) || sizes.reduce(0, +) != dim {
            throw ctx.shapeError("Split: sizes \(describeInts(sizes)) do not split dimension \(axis) (\(dim)) into \(count) outputs")
        }
        let outer = shapeCount(Array(input[0..<axis]))
        let inner = shapeCount(Array(input[(axis + 1)...])) * size
        var outputs: [(type: ElementType, shape: [Int])] = []
        for s in sizes {
            var shape = input
            shape[axis] = s
            outputs.append((type, shape))
        }
        let rowBytes = dim * inner
        return OpBuild(outputs: outputs) { i, o in
            let src = i[0]!.data
            let dsts = o.map { $0.data }
            return {
                var offset = 0
                for (k, s) in sizes.enumerated() where s > 0 {
                    let bytes = s * inner
                    for r in 0..<outer { (dsts[k] + r * bytes).copyMemory(from: src + r * rowBytes + offset, byteCount: bytes) }
                    offset += bytes
                }
            }
        }
    }

    /// Slice: starts/ends/axes attributes before opset 10, inputs (plus steps) since. Bounds clamp as in
    /// numpy; negative steps walk backwards.
    static func slice(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        let rank = input.count
        let starts: [Int], ends: [Int]
        var axesGiven: [Int]?, steps: [Int]?
        if let s = ctx.node.ints("starts") {
            starts = s
            guard let e = ctx.node.ints("ends") else { throw ctx.shapeError("Slice needs ends") }
            ends = e
            axesGiven = ctx.node.ints("axes")
        } else {
            starts = try ctx.constantInts(1)
            ends = try ctx.constantInts(2)
            if ctx.has(3) { axesGiven = try ctx.constantInts(3) }
            if ctx.has(4) { steps = try ctx.constantInts(4) }
        }
        let axes = try ctx.normalizedAxes(axesGiven ?? Array(0..<starts.count), rank: rank)
        let stepList = steps ?? [Int](repeating: 1, count: starts.count)
        if ends.count != starts.count || axes.count != starts.count || stepList.count != starts.count {
            throw ctx.shapeError("Slice: starts, ends, axes and steps have different lengths")
        }
        var out = input
        var first = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        for (k, a) in axes.enumerated() {
            let dim = input[a], st = stepList[k]
            if st == 0 { throw ctx.shapeError("Slice: step 0 on axis \(a)") }
            var s = starts[k], e = ends[k]
            if s < 0 { s += dim }
            if e < 0 { e += dim }
            if st > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                out[a] = e > s ? (e - s + st - 1) / st : 0
            } else {
                s = min(max(s, 0), dim - 1)
                e = min(max(e, -1), dim - 1)
                out[a] = s > e ? (s - e - st - 1) / (-st) : 0
            }
            first[a] = s
            step[a] = st
        }
        let own = stridesOf(input)
        var offset = 0
        var strides: [Int] = []
        for a in 0..<rank {
            if out[a] > 0 { offset += first[a] * own[a] }
            strides.append(own[a] * step[a])
        }
        let plan = StridedCopy(shape: out, strides: strides, offset: offset, elementSize: size)
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, dst = o[0].data
            return { plan.run(src, dst) }
        }
    }

    /// Reads index k of an int32/int64 indices tensor, made non-negative against `dim`; -1 when out of range.
    @inline(__always)
    static func index(_ p32: UnsafeMutablePointer<Int32>, _ p64: UnsafeMutablePointer<Int64>, wide: Bool,
                      _ k: Int, _ dim: Int) -> Int {
        var v = wide ? Int(p64[k]) : Int(p32[k])
        if v < 0 { v += dim }
        return v >= 0 && v < dim ? v : -1
    }

    /// Gather along an axis with runtime indices (int32/int64, negative allowed). Out-of-range indices
    /// produce zeros rather than reading outside the tensor.
    static func gather(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let indexType = try ctx.requireType(1, [.int32, .int64])
        let data = try ctx.shape(0), indices = try ctx.shape(1)
        let axis = try ctx.axis(ctx.node.int("axis", default: 0), rank: data.count)
        if data.isEmpty { throw ctx.shapeError("Gather needs data of rank >= 1") }
        let out = Array(data[0..<axis]) + indices + Array(data[(axis + 1)...])
        let outer = shapeCount(Array(data[0..<axis]))
        let dim = data[axis]
        let blockBytes = shapeCount(Array(data[(axis + 1)...])) * size
        let count = shapeCount(indices)
        let wide = indexType == .int64
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, idx = i[1]!.data, dst = o[0].data
            let p32 = idx.assumingMemoryBound(to: Int32.self), p64 = idx.assumingMemoryBound(to: Int64.self)
            return {
                var d = dst
                for r in 0..<outer {
                    let base = src + r * dim * blockBytes
                    for k in 0..<count {
                        let j = index(p32, p64, wide: wide, k, dim)
                        if j >= 0 {
                            d.copyMemory(from: base + j * blockBytes, byteCount: blockBytes)
                        } else {
                            d.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
                        }
                        d += blockBytes
                    }
                }
            }
        }
    }

    /// GatherElements: out[..., k, ...] = data[..., indices[..., k, ...], ...] along the axis; the output
    /// has the indices' shape.
    static func gatherElements(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let indexType = try ctx.requireType(1, [.int32, .int64])
        let data = try ctx.shape(0), indices = try ctx.shape(1)
        if data.count != indices.count || data.isEmpty {
            throw ctx.shapeError("GatherElements: data \(describeShape(data)) and indices \(describeShape(indices)) must have one rank >= 1")
        }
        let axis = try ctx.axis(ctx.node.int("axis", default: 0), rank: data.count)
        for d in 0..<data.count where d != axis && indices[d] > data[d] {
            throw ctx.shapeError("GatherElements: indices \(describeShape(indices)) exceed data \(describeShape(data)) on axis \(d)")
        }
        let dataStrides = stridesOf(data), outStrides = stridesOf(indices)
        let count = shapeCount(indices), rank = data.count, dim = data[axis]
        let wide = indexType == .int64
        return OpBuild(type, indices) { i, o in
            let src = i[0]!.data, idx = i[1]!.data, dst = o[0].data
            let p32 = idx.assumingMemoryBound(to: Int32.self), p64 = idx.assumingMemoryBound(to: Int64.self)
            return {
                for k in 0..<count {
                    // Data offset from the output position, with the axis coordinate replaced.
                    var rest = k, offset = 0
                    for d in 0..<rank {
                        let c = rest / outStrides[d]
                        rest -= c * outStrides[d]
                        if d != axis { offset += c * dataStrides[d] }
                    }
                    let j = index(p32, p64, wide: wide, k, dim)
                    if j >= 0 {
                        (dst + k * size).copyMemory(from: src + (offset + j * dataStrides[axis]) * size, byteCount: size)
                    } else {
                        (dst + k * size).initializeMemory(as: UInt8.self, repeating: 0, count: size)
                    }
                }
            }
        }
    }

    /// GatherND with batch_dims: each index tuple (last indices axis) selects a slice of data.
    static func gatherND(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let indexType = try ctx.requireType(1, [.int32, .int64])
        let data = try ctx.shape(0), indices = try ctx.shape(1)
        let b = ctx.node.int("batch_dims", default: 0)
        guard let m = indices.last, indices.count >= 1, b >= 0, b < min(data.count, indices.count),
              b + m <= data.count, Array(data[0..<b]) == Array(indices[0..<b]) else {
            throw ctx.shapeError("GatherND: data \(describeShape(data)) and indices \(describeShape(indices)) do not fit batch_dims \(b)")
        }
        let out = Array(indices[0..<(indices.count - 1)]) + Array(data[(b + m)...])
        let batches = shapeCount(Array(data[0..<b]))
        let tuples = shapeCount(Array(indices[b..<(indices.count - 1)]))
        let sliceBytes = shapeCount(Array(data[(b + m)...])) * size
        let strides = stridesOf(data)
        let batchBytes = shapeCount(Array(data[b...])) * size
        let wide = indexType == .int64
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, idx = i[1]!.data, dst = o[0].data
            let p32 = idx.assumingMemoryBound(to: Int32.self), p64 = idx.assumingMemoryBound(to: Int64.self)
            return {
                var d = dst
                for batch in 0..<batches {
                    for t in 0..<tuples {
                        var offset = 0, valid = true
                        for k in 0..<m {
                            let j = index(p32, p64, wide: wide, (batch * tuples + t) * m + k, data[b + k])
                            if j < 0 { valid = false; break }
                            offset += j * strides[b + k]
                        }
                        if valid {
                            d.copyMemory(from: src + batch * batchBytes + offset * size, byteCount: sliceBytes)
                        } else {
                            d.initializeMemory(as: UInt8.self, repeating: 0, count: sliceBytes)
                        }
                        d += sliceBytes
                    }
                }
            }
        }
    }

    /// Tile: repeats (constant) copies along each axis; out index o reads input index o mod dim. Tile-1
    /// took a scalar count and a scalar axis instead.
    static func tile(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        var repeats = try ctx.constantInts(1)
        if ctx.opset < 6 && ctx.has(2) {
            let count = repeats.first ?? 1
            let axis = try ctx.axis(try ctx.constantInts(2).first ?? 0, rank: input.count)
            repeats = [Int](repeating: 1, count: input.count)
            repeats[axis] = count
        }
        if repeats.count != input.count || repeats.contains(where: { $0 < 0 }) {
            throw ctx.shapeError("Tile: repeats \(describeInts(repeats)) do not fit shape \(describeShape(input))")
        }
        var out: [Int] = [], maps: [[Int]] = []
        for (d, r) in zip(input, repeats) {
            out.append(d * r)
            maps.append((0..<(d * r)).map { $0 % d })
        }
        let plan = IndexMapGather(outShape: out, maps: maps, srcShape: input, elementSize: size)
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, dst = o[0].data
            return { plan.run(src, dst, fill: nil) }
        }
    }

    /// Pad (constant, reflect, edge, wrap): pads as `paddings` (opset 1) or `pads` (2-10) attributes or
    /// input #1 (11+, with optional constant_value input #2 and axes input #3 since 18). Negative pads crop.
    static func pad(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let input = try ctx.shape(0)
        let rank = input.count
        let mode = ctx.node.string("mode") ?? "constant"
        if mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap" {
            throw ctx.unsupported("Pad mode '\(mode)' is not supported")
        }
        var pads: [Int]
        var axes = Array(0..<rank)
        if let p = ctx.node.ints("pads") ?? ctx.node.ints("paddings") {
            pads = p
        } else {
            pads = try ctx.constantInts(1)
            if ctx.has(3) { axes = try ctx.normalizedAxes(try ctx.constantInts(3), rank: rank) }
        }
        if pads.count != 2 * axes.count {
            throw ctx.shapeError("Pad: \(pads.count) pads for \(axes.count) axes (needs begin and end for each)")
        }
        var begin = [Int](repeating: 0, count: rank), end = [Int](repeating: 0, count: rank)
        for (k, a) in axes.enumerated() {
            begin[a] = pads[k]
            end[a] = pads[k + axes.count]
        }
        var out: [Int] = [], maps: [[Int]] = []
        for a in 0..<rank {
            let dim = input[a], n = dim + begin[a] + end[a]
            if n < 0 { throw ctx.shapeError("Pad: pads \(describeInts(pads)) remove more than dimension \(a) (\(dim)) holds") }
            if n > 0 && dim == 0 && mode != "constant" {
                throw ctx.shapeError("Pad: mode \(mode) cannot pad the empty dimension \(a)")
            }
            var map: [Int] = []
            for k in 0..<n {
                var j = k - begin[a]
                if j < 0 || j >= dim {
                    switch mode {
                    case "constant": j = -1
                    case "edge": j = j < 0 ? 0 : dim - 1
                    case "wrap": j = ((j % dim) + dim) % dim
                    default:  // reflect, mirrored without repeating the edge
                        if dim == 1 { j = 0 } else {
                            let period = 2 * (dim - 1)
                            j = ((j % period) + period) % period
                            if j >= dim { j = period - j }
                        }
                    }
                }
                map.append(j)
            }
            out.append(n)
            maps.append(map)
        }
        // Constant value: attribute `value` before opset 11, optional scalar input #2 since (read at run
        // time, so it need not be constant).
        let attributeValue = scalarTensor(type, Double(ctx.node.float("value", default: 0)))
        let valueFromInput = ctx.has(2)
        if valueFromInput {
            let v = try ctx.input(2)
            if v.type != type { throw ctx.unsupported("constant_value has type \(v.type.name), data has \(type.name)") }
            if shapeCount(v.shape) < 1 { throw ctx.shapeError("Pad: constant_value is empty") }
        }
        let plan = IndexMapGather(outShape: out, maps: maps, srcShape: input, elementSize: size)
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, dst = o[0].data
            if valueFromInput {
                let fill = i[2]!.data
                return { plan.run(src, dst, fill: fill) }
            }
            // The kernel holds the tensor itself: the build (and its captures) may be gone when it runs.
            return { plan.run(src, dst, fill: attributeValue.raw) }
        }
    }

    /// DepthToSpace (DCR or CRD) and SpaceToDepth: a 6-D reshape-transpose-reshape done as one strided copy.
    static func depthSpace(_ ctx: OpContext, toSpace: Bool) throws(ModelLoadError) -> OpBuild {
        let type = try ctx.input(0).type
        let size = try denseByteSize(ctx, type)
        let x = try ctx.shape(0)
        guard x.count == 4 else { throw ctx.shapeError("\(ctx.node.opType) needs a 4-D input, got \(describeShape(x))") }
        let b = ctx.node.int("blocksize", default: 0)
        if b < 1 { throw ctx.shapeError("\(ctx.node.opType) needs blocksize >= 1") }
        let (n, c, h, w) = (x[0], x[1], x[2], x[3])
        let view6: [Int], perm: [Int], out: [Int]
        if toSpace {
            if c % (b * b) != 0 { throw ctx.shapeError("DepthToSpace: channels \(c) not divisible by blocksize² \(b * b)") }
            let mode = ctx.node.string("mode") ?? "DCR"
            if mode == "DCR" {
                view6 = [n, b, b, c / (b * b), h, w]
                perm = [0, 3, 4, 1, 5, 2]
            } else if mode == "CRD" {
                view6 = [n, c / (b * b), b, b, h, w]
                perm = [0, 1, 4, 2, 5, 3]
            } else {
                throw ctx.unsupported("DepthToSpace mode '\(mode)'")
            }
            out = [n, c / (b * b), h * b, w * b]
        } else {
            if h % b != 0 || w % b != 0 { throw ctx.shapeError("SpaceToDepth: \(h)x\(w) not divisible by blocksize \(b)") }
            view6 = [n, c, h / b, b, w / b, b]
            perm = [0, 3, 5, 1, 2, 4]
            out = [n, c * b * b, h / b, w / b]
        }
        let own = stridesOf(view6)
        let plan = StridedCopy(shape: perm.map { view6[$0] }, strides: perm.map { own[$0] }, elementSize: size)
        return OpBuild(type, out) { i, o in
            let src = i[0]!.data, dst = o[0].data
            return { plan.run(src, dst) }
        }
    }
}
