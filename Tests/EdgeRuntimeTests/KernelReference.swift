// Naive reference kernels (direct loops, written independently of the C code) and helpers for KernelTests.
import CEdgeShim

/// Deterministic generator (SplitMix64) so every failure reproduces.
struct KernelRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in lo...hi.
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
}

/// Largest difference of `got` from `want`, relative to max(|want[i]|, rms(want), 1): a bound that tolerates
/// summation-order rounding but not a wrong term.
func kernelMismatch(_ got: [Float], _ want: [Float]) -> (error: Float, index: Int) {
    precondition(got.count == want.count)
    var sumSquares: Double = 0
    for v in want where v.isFinite { sumSquares += Double(v) * Double(v) }
    let rms = Float((sumSquares / Double(max(want.count, 1))).squareRoot())
    var worst: Float = 0
    var at = -1
    for i in 0..<got.count {
        if got[i] == want[i] { continue }   // also equal infinities
        let scale = max(abs(want[i]), rms, 1)
        let e = abs(got[i] - want[i]) / scale
        if !(e <= worst) { worst = e.isNaN ? .infinity : e; at = i }
    }
    return (worst, at)
}

// MARK: - GEMM

func refGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
             b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: Double = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                acc += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * acc + old)
        }
    }
}

// MARK: - N-d geometry (spatial dims right-aligned into 3, missing leading dims of size 1)

struct KGeom {
    var inSize = [1, 1, 1], outSize = [1, 1, 1], kernel = [1, 1, 1], stride = [1, 1, 1], dilation = [1, 1, 1]
    var padBegin = [0, 0, 0], padEnd = [0, 0, 0]
    var inPlane: Int { inSize.reduce(1, *) }
    var outPlane: Int { outSize.reduce(1, *) }
    var kernelVolume: Int { kernel.reduce(1, *) }
}

/// Converts a fixed C array (imported as a tuple of Int32) to [Int].
func kTuple3(_ t: (Int32, Int32, Int32)) -> [Int] { [Int(t.0), Int(t.1), Int(t.2)] }
func kMakeTuple3(_ a: [Int]) -> (Int32, Int32, Int32) {
    (Int32(a.count > 0 ? a[0] : 0), Int32(a.count > 1 ? a[1] : 0), Int32(a.count > 2 ? a[2] : 0))
}

func kGeom(_ d: cedge_conv_desc) -> KGeom {
    var g = KGeom()
    let s = Int(d.spatial), off = 3 - s
    let ins = kTuple3(d.in_size), outs = kTuple3(d.out_size), ks = kTuple3(d.kernel), st = kTuple3(d.stride)
    let dl = kTuple3(d.dilation), pb = kTuple3(d.pad_begin)
    for i in 0..<s {
        g.inSize[off + i] = ins[i]; g.outSize[off + i] = outs[i]; g.kernel[off + i] = ks[i]
        g.stride[off + i] = st[i]; g.dilation[off + i] = dl[i]; g.padBegin[off + i] = pb[i]
    }
    return g
}

func kGeom(_ d: cedge_pool_desc) -> KGeom {
    var g = KGeom()
    let s = Int(d.spatial), off = 3 - s
    let ins = kTuple3(d.in_size), outs = kTuple3(d.out_size), ks = kTuple3(d.kernel), st = kTuple3(d.stride)
    let dl = kTuple3(d.dilation), pb = kTuple3(d.pad_begin), pe = kTuple3(d.pad_end)
    for i in 0..<s {
        g.inSize[off + i] = ins[i]; g.outSize[off + i] = outs[i]; g.kernel[off + i] = ks[i]
        g.stride[off + i] = st[i]; g.dilation[off + i] = dl[i]; g.padBegin[off + i] = pb[i]; g.padEnd[off + i] = pe[i]
    }
    return g
}

/// Every (kd, kh, kw) kernel cell with its flat index.
func kKernelCells(_ g: KGeom) -> [(Int, Int, Int, Int)] {
    var cells: [(Int, Int, Int, Int)] = []
    for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
        cells.append((kd, kh, kw, (kd * g.kernel[1] + kh) * g.kernel[2] + kw))
    } } }
    return cells
}

// MARK: - Convolution

/// Direct convolution: y[n][oc][o] = bias[oc] + sum over the group's input channels and kernel cells.
func refConv(_ d: cedge_conv_desc, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
    let g = kGeom(d)
    let batch = Int(d.batch), ic = Int(d.in_channels), oc = Int(d.out_channels), groups = Int(d.groups)
    let icg = ic / groups, ocg = oc / groups
    let cells = kKernelCells(g)
    var y = [Float](repeating: 0, count: batch * oc * g.outPlane)
    for n in 0..<batch { for o in 0..<oc {
        let grp = o / ocg
        for od in 0..<g.outSize[0] { for oh in 0..<g.outSize[1] { for ow in 0..<g.outSize[2] {
            var acc = Double(bias?[o] ?? 0)
            for c in 0..<icg {
                let xBase = (n * ic + grp * icg + c) * g.inPlane
                let wBase = (o * icg + c) * g.kernelVolume
                for (kd, kh, kw, kIndex) in cells {
                    let id = od * g.stride[0] - g.padBegin[0] + kd * g.dilation[0]
                    let ih = oh * g.stride[1] - g.padBegin[1] + kh * g.dilation[1]
                    let iw = ow * g.stride[2] - g.padBegin[2] + kw * g.dilation[2]
                    if id < 0 || id >= g.inSize[0] || ih < 0 || ih >= g.inSize[1] || iw < 0 || iw >= g.inSize[2] { continue }
                    acc += Double(x[xBase + (id * g.inSize[1] + ih) * g.inSize[2] + iw]) * Double(w[wBase + kIndex])
                }
            }
            var v = Float(acc)
            v = max(v, d.clamp_min)
            v = min(v, d.clamp_max)
            y[(n * oc + o) * g.outPlane + (od * g.outSize[1] + oh) * g.outSize[2] + ow] = v
        } } }
    } }
    return y
}

/// Direct transposed convolution: every input cell scatters x * w into o = i*stride - pad + k*dilation.
func refConvTranspose(_ d: cedge_conv_desc, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
    let g = kGeom(d)
    let batch = Int(d.batch), ic = Int(d.in_channels), oc = Int(d.out_channels), groups = Int(d.groups)
    let icg = ic / groups, ocg = oc / groups
    let cells = kKernelCells(g)
    var acc = [Double](repeating: 0, count: batch * oc * g.outPlane)
    for n in 0..<batch { for o in 0..<oc {
        for i in 0..<g.outPlane { acc[(n * oc + o) * g.outPlane + i] = Double(bias?[o] ?? 0) }
    } }
    for n in 0..<batch { for c in 0..<ic {
        let grp = c / icg
        for id in 0..<g.inSize[0] { for ih in 0..<g.inSize[1] { for iw in 0..<g.inSize[2] {
            let xv = Double(x[(n * ic + c) * g.inPlane + (id * g.inSize[1] + ih) * g.inSize[2] + iw])
            for oo in 0..<ocg {
                let o = grp * ocg + oo
                for (kd, kh, kw, kIndex) in cells {
                    let od = id * g.stride[0] - g.padBegin[0] + kd * g.dilation[0]
                    let oh = ih * g.stride[1] - g.padBegin[1] + kh * g.dilation[1]
                    let ow = iw * g.stride[2] - g.padBegin[2] + kw * g.dilation[2]
                    if od < 0 || od >= g.outSize[0] || oh < 0 || oh >= g.outSize[1] || ow < 0 || ow >= g.outSize[2] { continue }
                    acc[(n * oc + o) * g.outPlane + (od * g.outSize[1] + oh) * g.outSize[2] + ow] +=
                        xv * Double(w[(c * ocg + oo) * g.kernelVolume + kIndex])
                }
            }
        } } }
    } }
    return acc.map { min(max(Float($0), d.clamp_min), d.clamp_max) }
}

// MARK: - Pooling

/// Direct pooling. MAX: first maximum in row-major window order, index into the whole input tensor.
/// AVG: divides by the cells inside the input, or (count_include_pad) inside [-pad_begin, in + pad_end).
func refPool(_ d: cedge_pool_desc, x: [Float]) -> (y: [Float], indices: [Int64]) {
    let g = kGeom(d)
    let planes = Int(d.batch) * Int(d.channels)
    var y = [Float](repeating: 0, count: planes * g.outPlane)
    var idx = [Int64](repeating: 0, count: planes * g.outPlane)
    for p in 0..<planes {
        for od in 0..<g.outSize[0] { for oh in 0..<g.outSize[1] { for ow in 0..<g.outSize[2] {
            let o = [od, oh, ow]
            var best = -Float.infinity, bestAt = -1, sum: Double = 0, inside = 0, padded = 0
            for (kd, kh, kw, _) in kKernelCells(g) {
                let k = [kd, kh, kw]
                var coord = [0, 0, 0], valid = true, inPadded = true
                for i in 0..<3 {
                    coord[i] = o[i] * g.stride[i] - g.padBegin[i] + k[i] * g.dilation[i]
                    if coord[i] < 0 || coord[i] >= g.inSize[i] { valid = false }
                    if coord[i] < -g.padBegin[i] || coord[i] >= g.inSize[i] + g.padEnd[i] { inPadded = false }
                }
                if inPadded { padded += 1 }
                if !valid { continue }
                inside += 1
                let at = (coord[0] * g.inSize[1] + coord[1]) * g.inSize[2] + coord[2]
                let v = x[p * g.inPlane + at]
                sum += Double(v)
                if bestAt < 0 || v > best { best = v; bestAt = at }
            }
            let out = p * g.outPlane + (od * g.outSize[1] + oh) * g.outSize[2] + ow
            if Int(d.kind) == Int(CEDGE_POOL_MAX.rawValue) {
                y[out] = best
                idx[out] = Int64(p * g.inPlane + max(bestAt, 0))
            } else {
                let count = d.count_include_pad != 0 ? padded : inside
                y[out] = count > 0 ? Float(sum / Double(count)) : 0
            }
        } } }
    }
    return (y, idx)
}
