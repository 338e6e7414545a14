// The C fp32 kernels (GEMM, Conv, ConvTranspose, pooling) on every code path this CPU has, against naive
// reference loops, against the portable path, and 1 thread against 2.
import CEdgeShim
import XCTest

final class KernelTests: XCTestCase {
    /// Every SIMD path this build knows; the dispatcher only accepts the ones this CPU runs.
    static let simdPaths = ["avx512", "avx2-fma", "neon"]

    /// The code paths to exercise: each SIMD path the CPU has (AVX-512 and AVX2 on an AVX-512 machine), the
    /// generic-C blocked path, portable.
    static let paths: [String] = {
        let available = simdPaths.filter { cedge_kernel_select($0) == 0 }
        _ = cedge_kernel_select(nil)
        return available + ["generic", "portable"]
    }()

    override func tearDown() {
        _ = cedge_kernel_select(nil)
        cedge_set_threads(0)
        super.tearDown()
    }

    /// Runs `body` on every path with 1 and 2 threads; checks each result against `reference` and the portable
    /// path, and that thread counts give identical results.
    func checkAllPaths(_ what: String, reference: [Float], tolerance: Float = 1e-4,
                       file: StaticString = #filePath, line: UInt = #line, _ body: () -> [Float]) {
        var portable: [Float]?
        var results: [(String, [Float])] = []
        for path in KernelTests.paths {
            XCTAssertEqual(cedge_kernel_select(path), 0, "select \(path)", file: file, line: line)
            cedge_set_threads(1)
            cedge_scratch_poison()
            let one = body()
            cedge_set_threads(2)
            cedge_scratch_poison()
            let two = body()
            if one != two && !(zip(one, two).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }) {
                let (e, at) = kernelMismatch(two, one)
                XCTFail("\(what) [\(path)]: 2 threads differ from 1 (\(e) at \(at))", file: file, line: line)
            }
            if path == "portable" { portable = one }
            results.append((path, one))
        }
        for (path, got) in results {
            let (e, at) = kernelMismatch(got, reference)
            XCTAssert(e <= tolerance, "\(what) [\(path)] vs reference: error \(e) at \(at): got \(at >= 0 ? got[at] : 0) "
                      + "want \(at >= 0 ? reference[at] : 0)", file: file, line: line)
            if let portable, path != "portable" {
                let (e2, at2) = kernelMismatch(got, portable)
                XCTAssert(e2 <= tolerance, "\(what) [\(path)] vs portable: error \(e2) at \(at2)", file: file, line: line)
            }
        }
        _ = cedge_kernel_select(nil)
    }

    // MARK: - dispatcher, threads, the checker itself

    func testDispatcherNamesAndSelection() {
        let best = String(cString: cedge_kernel_isa())
        XCTAssertTrue(["avx512", "avx2-fma", "neon", "generic"].contains(best), best)
        // The best path is the first SIMD path the CPU has, and every path it has can be selected by name.
        XCTAssertEqual(KernelTests.paths.first, best == "generic" ? "generic" : best)
        for path in KernelTests.paths {
            XCTAssertEqual(cedge_kernel_select(path), 0, path)
            XCTAssertEqual(String(cString: cedge_kernel_isa()), path)
        }
        XCTAssertEqual(cedge_kernel_select("auto"), 0)
        cedge_force_portable(1)
        XCTAssertEqual(String(cString: cedge_kernel_isa()), "portable")
        cedge_force_portable(0)
        XCTAssertEqual(String(cString: cedge_kernel_isa()), best)
        XCTAssertEqual(cedge_kernel_select("generic"), 0)
        XCTAssertEqual(String(cString: cedge_kernel_isa()), "generic")
        XCTAssertEqual(cedge_kernel_select("no-such-isa"), -1)
        XCTAssertEqual(String(cString: cedge_kernel_isa()), "generic", "a failed select leaves the path alone")
        XCTAssertEqual(cedge_kernel_select("auto"), 0)
        XCTAssertEqual(String(cString: cedge_kernel_isa()), best)
        #if arch(x86_64)
        XCTAssertEqual(cedge_kernel_select("neon"), -1)
        #elseif arch(arm64) || arch(arm)
        XCTAssertEqual(cedge_kernel_select("avx2-fma"), -1)
        XCTAssertEqual(cedge_kernel_select("avx512"), -1)
        #endif
    }

    func testThreadSettings() {
        cedge_set_threads(3)
        XCTAssertEqual(cedge_get_threads(), 3)
        cedge_set_threads(1)
        XCTAssertEqual(cedge_get_threads(), 1)
        cedge_set_threads(0)
        XCTAssertGreaterThanOrEqual(cedge_get_threads(), 1)
        // More threads than work items, and switching widths repeatedly, must neither hang nor change results.
        var rng = KernelRNG(seed: 7)
        let a = rng.floats(5 * 9), b = rng.floats(9 * 4)
        var want = [Float](repeating: 0, count: 20)
        refGemm(transA: false, transB: false, m: 5, n: 4, k: 9, alpha: 1, a: a, lda: 9, b: b, ldb: 4, beta: 0, c: &want, ldc: 4)
        for threads in [8, 1, 3, 2, 1, 4] {
            cedge_set_threads(Int32(threads))
            var c = [Float](repeating: 0, count: 20)
            cedge_sgemm(0, 0, 5, 4, 9, 1, a, 9, b, 4, 0, &c, 4)
            XCTAssertLessThan(kernelMismatch(c, want).error, 1e-5, "threads \(threads)")
        }
    }

    func testCheckerCatchesAWrongResult() {
        var rng = KernelRNG(seed: 1)
        let want = rng.floats(100)
        var got = want
        XCTAssertEqual(kernelMismatch(got, want).error, 0)
        got[37] += 0.01
        let (e, at) = kernelMismatch(got, want)
        XCTAssertGreaterThan(e, 1e-4)
        XCTAssertEqual(at, 37)
        got = want
        got[3] = .nan
        XCTAssertGreaterThan(kernelMismatch(got, want).error, 1e-4)
    }

    // MARK: - GEMM

    func gemmCase(_ rng: inout KernelRNG, m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float,
                  beta: Float, pad: Bool, line: UInt = #line) {
        let lda = (transA ? m : k) + (pad ? rng.int(1, 3) : 0)
        let ldb = (transB ? k : n) + (pad ? rng.int(1, 3) : 0)
        let ldc = n + (pad ? rng.int(1, 3) : 0)
        let a = rng.floats(lda * (transA ? k : m)), b = rng.floats(ldb * (transB ? n : k))
        // beta == 0 must ignore C entirely, NaNs included.
        let c0 = beta == 0 ? [Float](repeating: .nan, count: ldc * m) : rng.floats(ldc * m)
        var want = c0
        refGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: &want, ldc: ldc)
        // Compare the whole C buffer: the padding columns must stay untouched too.
        if beta == 0 { for i in 0..<m { for j in n..<ldc { want[i * ldc + j] = .nan } } }
        let what = "gemm m\(m) n\(n) k\(k) tA\(transA) tB\(transB) alpha\(alpha) beta\(beta) ld\(lda),\(ldb),\(ldc)"
        checkAllPaths(what, reference: want.map { $0.isNaN ? 12345 : $0 }, line: line) {
            var c = c0
            cedge_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b,
                        Int32(ldb), beta, &c, Int32(ldc))
            return c.map { $0.isNaN ? 12345 : $0 }
        }
    }

    func testGemmRandomShapes() {
        var rng = KernelRNG(seed: 0x5EED_0001)
        for _ in 0..<60 {
            let m = rng.int(1, 40), n = rng.int(1, 50), k = rng.int(1, 70)
            let alpha: Float = rng.bool() ? 1 : rng.float() * 2
            let beta: Float = [0, 1, rng.float()][rng.int(0, 2)]
            gemmCase(&rng, m: m, n: n, k: k, transA: rng.bool(), transB: rng.bool(), alpha: alpha, beta: beta,
                     pad: rng.bool())
        }
    }

    func testGemmBlockEdges() {
        var rng = KernelRNG(seed: 0x5EED_0002)
        // Around the micro-tile sizes (AVX2 6x16, NEON 8x12 / 6x8, generic 4x8).
        for (m, n) in [(6, 16), (7, 17), (5, 15), (8, 12), (9, 13), (12, 24), (13, 25), (4, 8), (3, 7), (1, 1)] {
            gemmCase(&rng, m: m, n: n, k: 19, transA: false, transB: false, alpha: 1, beta: 0, pad: false)
        }
        // K across the K block (256): the second block accumulates into C (with beta applied once).
        gemmCase(&rng, m: 13, n: 21, k: 600, transA: false, transB: true, alpha: 0.5, beta: 0.25, pad: true)
        gemmCase(&rng, m: 9, n: 35, k: 257, transA: true, transB: false, alpha: 1, beta: 1, pad: false)
        gemmCase(&rng, m: 9, n: 35, k: 257, transA: true, transB: true, alpha: 1, beta: 0, pad: false)
        // M across the M block (144 / 128 / 120 rows) and N across the N block (1024 / 768 / 512 columns).
        gemmCase(&rng, m: 300, n: 23, k: 11, transA: false, transB: false, alpha: 1, beta: 0, pad: true)
        gemmCase(&rng, m: 7, n: 1100, k: 9, transA: true, transB: false, alpha: -1, beta: 0.5, pad: false)
        // Big enough that 2 threads split it.
        gemmCase(&rng, m: 70, n: 90, k: 80, transA: false, transB: false, alpha: 1, beta: 0, pad: false)
    }

    func testGemmOddSizes() {
        var rng = KernelRNG(seed: 0x5EED_0004)
        // Every (m, n) pair of sizes below, above and far off the micro-tiles (AVX-512 8x32, AVX2 6x16), with k,
        // transposes, alpha and beta cycled through: partial row and column tiles, K across the K block.
        let sizes = [1, 7, 17, 33, 100, 257]
        var i = 0
        for m in sizes {
            for n in sizes {
                let k = sizes[(i * 5 + 3) % sizes.count]
                let alpha: Float = [1, 0.5, -1.25][i % 3]
                let beta: Float = [0, 1, 0.75, 0][i % 4]
                gemmCase(&rng, m: m, n: n, k: k, transA: i % 2 == 1, transB: (i / 2) % 2 == 1, alpha: alpha,
                         beta: beta, pad: i % 3 == 2)
                i += 1
            }
        }
        // k of every size on one partial tile in both dimensions.
        for k in sizes {
            gemmCase(&rng, m: 9, n: 33, k: k, transA: false, transB: false, alpha: 1, beta: 0.5, pad: true)
        }
    }

    func testGemvAndDegenerateShapes() {
        var rng = KernelRNG(seed: 0x5EED_0003)
        for transA in [false, true] {
            for transB in [false, true] {
                gemmCase(&rng, m: 1, n: 77, k: 300, transA: transA, transB: transB, alpha: 1, beta: 0, pad: true)
                gemmCase(&rng, m: 1, n: 1000, k: 70, transA: transA, transB: transB, alpha: 0.5, beta: 1, pad: false)
                gemmCase(&rng, m: 65, n: 1, k: 129, transA: transA, transB: transB, alpha: 1, beta: -0.5, pad: true)
                gemmCase(&rng, m: 1, n: 1, k: 33, transA: transA, transB: transB, alpha: 2, beta: 0, pad: true)
            }
        }
        // k == 0: C = beta * C.
        gemmCase(&rng, m: 5, n: 7, k: 0, transA: false, transB: false, alpha: 1, beta: 0.5, pad: false)
        gemmCase(&rng, m: 5, n: 7, k: 0, transA: false, transB: false, alpha: 1, beta: 0, pad: false)
    }

    // MARK: - Conv

    struct ConvCase {
        var spatial = 2, batch = 1, inChannels = 1, outChannels = 1, groups = 1
        var inSize = [1], kernel = [1], stride = [1], dilation = [1], padBegin = [0], padEnd = [0]
        var outputPadding = [0]
        var clampMin = -Float.infinity, clampMax = Float.infinity
        var bias = true

        func desc(transpose: Bool) -> cedge_conv_desc {
            var d = cedge_conv_desc()
            d.spatial = Int32(spatial); d.batch = Int32(batch); d.in_channels = Int32(inChannels)
            d.out_channels = Int32(outChannels); d.groups = Int32(groups)
            var out: [Int] = []
            for i in 0..<spatial {
                let ek = (kernel[i] - 1) * dilation[i] + 1
                if transpose {
                    out.append((inSize[i] - 1) * stride[i] + ek - padBegin[i] - padEnd[i] + outputPadding[i])
                } else {
                    out.append((inSize[i] + padBegin[i] + padEnd[i] - ek) / stride[i] + 1)
                }
            }
            d.in_size = kMakeTuple3(inSize); d.out_size = kMakeTuple3(out); d.kernel = kMakeTuple3(kernel)
            d.stride = kMakeTuple3(stride); d.dilation = kMakeTuple3(dilation); d.pad_begin = kMakeTuple3(padBegin)
            d.clamp_min = clampMin; d.clamp_max = clampMax
            return d
        }

        var label: String {
            "sp\(spatial) b\(batch) c\(inChannels)->\(outChannels) g\(groups) in\(inSize) k\(kernel) s\(stride) "
                + "d\(dilation) p\(padBegin)/\(padEnd) op\(outputPadding) clamp[\(clampMin),\(clampMax)] bias\(bias)"
        }
    }

    func runConv(_ c: ConvCase, transpose: Bool, seed: UInt64, line: UInt = #line) {
        let d = c.desc(transpose: transpose)
        let g = kGeom(d)
        guard g.outPlane > 0, g.outSize.allSatisfy({ $0 > 0 }) else { return XCTFail("bad case \(c.label)", line: line) }
        var rng = KernelRNG(seed: seed)
        let x = rng.floats(c.batch * c.inChannels * g.inPlane)
        let w = transpose ? rng.floats(c.inChannels * (c.outChannels / c.groups) * g.kernelVolume)
            : rng.floats(c.outChannels * (c.inChannels / c.groups) * g.kernelVolume)
        let bias: [Float]? = c.bias ? rng.floats(c.outChannels) : nil
        let want = transpose ? refConvTranspose(d, x: x, w: w, bias: bias) : refConv(d, x: x, w: w, bias: bias)
        let count = c.batch * c.outChannels * g.outPlane
        checkAllPaths((transpose ? "convT " : "conv ") + c.label, reference: want, line: line) {
            var y = [Float](repeating: .nan, count: count)   // every output must be written
            withUnsafePointer(to: d) { dp in
                let call = { (b: UnsafePointer<Float>?) in
                    if transpose { cedge_conv_transpose_f32(dp, x, w, b, &y) } else { cedge_conv_f32(dp, x, w, b, &y) }
                }
                if let bias { bias.withUnsafeBufferPointer { call($0.baseAddress) } } else { call(nil) }
            }
            return y
        }
    }

    func randomConvCase(_ rng: inout KernelRNG, transpose: Bool) -> ConvCase {
        var c = ConvCase()
        c.spatial = rng.int(1, 3)
        c.batch = rng.int(1, 2)
        let kind = rng.int(0, 4)   // 0 grouped, 1 depthwise, 2 pointwise, 3-4 plain
        c.groups = kind == 0 ? rng.int(2, 3) : 1
        var cg = rng.int(1, 5), og = rng.int(1, 6)
        if kind == 1 && !transpose { c.groups = rng.int(2, 9); cg = 1; og = 1 }
        c.inChannels = cg * c.groups; c.outChannels = og * c.groups
        let maxIn = [0, 30, 14, 6][c.spatial]
        c.inSize = []; c.kernel = []; c.stride = []; c.dilation = []; c.padBegin = []; c.padEnd = []; c.outputPadding = []
        for _ in 0..<c.spatial {
            var k = rng.int(1, c.spatial == 3 ? 3 : 5), s = rng.int(1, 3), dl = rng.int(1, 2)
            var pb = rng.int(0, 2), pe = rng.int(0, 2)
            if kind == 2 { k = 1; s = 1; dl = 1; pb = 0; pe = 0 }
            pb = min(pb, (k - 1) * dl); pe = min(pe, (k - 1) * dl)
            let ek = (k - 1) * dl + 1
            let n = max(rng.int(1, maxIn), transpose ? 1 : max(ek - pb - pe, 1))
            c.inSize.append(n); c.kernel.append(k); c.stride.append(s); c.dilation.append(dl)
            c.padBegin.append(pb); c.padEnd.append(pe)
            c.outputPadding.append(transpose ? rng.int(0, s - 1) : 0)
        }
        switch rng.int(0, 2) {
        case 0: break
        case 1: c.clampMin = 0
        default: c.clampMin = -0.5; c.clampMax = 0.75
        }
        c.bias = rng.bool()
        if transpose {
            // Cropping pads must leave at least one output cell.
            let d = c.desc(transpose: true)
            if kTuple3(d.out_size).prefix(c.spatial).contains(where: { $0 < 1 }) {
                c.padBegin = c.padBegin.map { _ in 0 }; c.padEnd = c.padEnd.map { _ in 0 }
            }
        }
        return c
    }

    func testConvRandomShapes() {
        var rng = KernelRNG(seed: 0x5EED_0010)
        for i in 0..<70 {
            runConv(randomConvCase(&rng, transpose: false), transpose: false, seed: UInt64(1000 + i))
        }
    }

    func testConvNamedCases() {
        var c = ConvCase()
        func conv2d(_ ic: Int, _ oc: Int, _ hw: [Int], k: Int, s: Int = 1, p: Int = 0, dil: Int = 1, groups: Int = 1,
                    batch: Int = 1) -> ConvCase {
            var c = ConvCase()
            c.batch = batch; c.inChannels = ic; c.outChannels = oc; c.groups = groups; c.inSize = hw
            c.kernel = [k, k]; c.stride = [s, s]; c.dilation = [dil, dil]; c.padBegin = [p, p]; c.padEnd = [p, p]
            return c
        }
        // 3x3 pad 1 stride 1 (shifted-window path), with ReLU, and stride 2 (phase planes).
        c = conv2d(16, 16, [12, 12], k: 3, p: 1); c.clampMin = 0; runConv(c, transpose: false, seed: 1)
        runConv(conv2d(8, 12, [13, 11], k: 3, s: 2, p: 1), transpose: false, seed: 2)
        // Stem-like: one input channel; 7x7 stride 2 pad 3.
        runConv(conv2d(1, 16, [28, 28], k: 3, p: 1), transpose: false, seed: 3)
        runConv(conv2d(3, 8, [23, 23], k: 7, s: 2, p: 3), transpose: false, seed: 4)
        // Pointwise (direct GEMM, batch 2), 1x1 stride 2 shortcut, ReLU6 clamp.
        c = conv2d(24, 40, [9, 7], k: 1, batch: 2); c.clampMin = 0; c.clampMax = 6; runConv(c, transpose: false, seed: 5)
        runConv(conv2d(16, 32, [14, 14], k: 1, s: 2), transpose: false, seed: 6)
        // K across the K block (32*9 = 288), M across the M block (150 output channels).
        runConv(conv2d(32, 20, [7, 7], k: 3, p: 1), transpose: false, seed: 7)
        runConv(conv2d(3, 150, [6, 6], k: 3, p: 1), transpose: false, seed: 8)
        // Small output under a big kernel: im2col path. Single output cell: dot-product path.
        runConv(conv2d(4, 5, [6, 6], k: 5), transpose: false, seed: 9)
        runConv(conv2d(10, 7, [3, 3], k: 3), transpose: false, seed: 10)
        runConv(conv2d(12, 9, [1, 1], k: 1, batch: 2), transpose: false, seed: 11)
        // Dilation, asymmetric pads.
        c = conv2d(5, 6, [15, 12], k: 3, p: 2, dil: 2); c.padEnd = [0, 1]; runConv(c, transpose: false, seed: 12)
        // Groups.
        runConv(conv2d(8, 12, [9, 9], k: 3, p: 1, groups: 4), transpose: false, seed: 13)
        runConv(conv2d(6, 6, [10, 10], k: 3, s: 2, p: 1, groups: 2, batch: 2), transpose: false, seed: 14)
        // The models' layers (ResNet-small on 28x28): stem K = 9, stride-2 stage entries with their 1x1 shortcut,
        // the 14x14 and 7x7 3x3 convs (span 222 / 61 virtual columns), batch 2, ReLU.
        c = conv2d(1, 32, [28, 28], k: 3, p: 1, batch: 2); c.clampMin = 0; c.bias = true; runConv(c, transpose: false, seed: 27)
        c = conv2d(16, 32, [28, 28], k: 3, s: 2, p: 1); c.clampMin = 0; runConv(c, transpose: false, seed: 28)
        runConv(conv2d(32, 64, [14, 14], k: 1, s: 2, batch: 2), transpose: false, seed: 29)
        // Stride-2 phase rows of 16-lane vectors plus a masked tail (36 and 33 even columns), an odd width whose
        // last even column ends the row, and a batch large enough for the phase copy to run on the pool.
        runConv(conv2d(6, 10, [9, 71], k: 3, s: 2, p: 1), transpose: false, seed: 35)
        runConv(conv2d(5, 7, [5, 65], k: 1, s: 2), transpose: false, seed: 36)
        c = conv2d(16, 16, [28, 28], k: 3, s: 2, p: 1, batch: 3); c.clampMin = 0; runConv(c, transpose: false, seed: 37)
        c = conv2d(32, 32, [14, 14], k: 3, p: 1, batch: 2); c.clampMin = 0; runConv(c, transpose: false, seed: 30)
        runConv(conv2d(64, 64, [7, 7], k: 3, p: 1), transpose: false, seed: 31)
        runConv(conv2d(128, 128, [7, 7], k: 3, p: 1, batch: 2), transpose: false, seed: 32)
        // Batched problems share one packing of the weights: K across the K block (above), M across the M block
        // and a partial last row panel (150 = 18 * 8 + 6), im2col-path batch.
        runConv(conv2d(3, 150, [6, 6], k: 3, p: 1, batch: 3), transpose: false, seed: 33)
        runConv(conv2d(5, 13, [6, 6], k: 5, batch: 2), transpose: false, seed: 34)
        // Depthwise: 3x3 s1/s2, 5x5 dilated, 7x7 planes, no padding, batch 2 + ReLU6.
        runConv(conv2d(32, 32, [20, 20], k: 3, p: 1, groups: 32), transpose: false, seed: 15)
        runConv(conv2d(24, 24, [21, 19], k: 3, s: 2, p: 1, groups: 24), transpose: false, seed: 16)
        runConv(conv2d(8, 8, [17, 17], k: 5, p: 4, dil: 2, groups: 8), transpose: false, seed: 17)
        runConv(conv2d(40, 40, [7, 7], k: 3, p: 1, groups: 40), transpose: false, seed: 18)
        runConv(conv2d(16, 16, [9, 9], k: 3, groups: 16), transpose: false, seed: 19)
        runConv(conv2d(16, 16, [10, 10], k: 3, s: 2, groups: 16), transpose: false, seed: 23)
        c = conv2d(12, 12, [11, 11], k: 3, s: 3, p: 1, groups: 12, batch: 2); c.clampMin = 0; c.clampMax = 6
        runConv(c, transpose: false, seed: 20)
        // Depthwise with a channel multiplier goes through the grouped GEMM.
        runConv(conv2d(6, 12, [8, 8], k: 3, p: 1, groups: 6), transpose: false, seed: 21)
        // One input channel per group and few input planes: each plane's output planes are split into tasks
        // (multiplier 7 over 4 parts: uneven shares).
        runConv(conv2d(2, 14, [9, 11], k: 3, p: 1, groups: 2), transpose: false, seed: 38)
        c = conv2d(1, 5, [13, 12], k: 3, s: 2, p: 1); c.clampMin = 0; runConv(c, transpose: false, seed: 39)
        // 1-d and 3-d.
        c = ConvCase(); c.spatial = 1; c.inChannels = 7; c.outChannels = 9; c.inSize = [50]; c.kernel = [5]
        c.stride = [2]; c.dilation = [3]; c.padBegin = [4]; c.padEnd = [1]; runConv(c, transpose: false, seed: 22)
        c = ConvCase(); c.spatial = 1; c.inChannels = 10; c.outChannels = 10; c.groups = 10; c.inSize = [64]
        c.kernel = [3]; c.stride = [1]; c.dilation = [1]; c.padBegin = [1]; c.padEnd = [1]; runConv(c, transpose: false, seed: 24)
        c = ConvCase(); c.spatial = 3; c.batch = 2; c.inChannels = 4; c.outChannels = 6; c.inSize = [5, 6, 7]
        c.kernel = [3, 3, 3]; c.stride = [1, 2, 1]; c.dilation = [1, 1, 2]; c.padBegin = [1, 1, 2]; c.padEnd = [1, 0, 2]
        runConv(c, transpose: false, seed: 25)
        c = ConvCase(); c.spatial = 3; c.inChannels = 6; c.outChannels = 6; c.groups = 6; c.inSize = [4, 7, 7]
        c.kernel = [3, 3, 3]; c.stride = [1, 1, 1]; c.dilation = [1, 1, 1]; c.padBegin = [1, 1, 1]; c.padEnd = [1, 1, 1]
        runConv(c, transpose: false, seed: 26)
    }

    // MARK: - ConvTranspose

    func testConvTransposeRandomShapes() {
        var rng = KernelRNG(seed: 0x5EED_0020)
        for i in 0..<50 {
            runConv(randomConvCase(&rng, transpose: true), transpose: true, seed: UInt64(2000 + i))
        }
    }

    func testConvTransposeNamedCases() {
        var c = ConvCase()
        // Upsampling 2x: k3 s2 p1 output_padding 1 (the output-shape arithmetic the caller resolves).
        c.inChannels = 8; c.outChannels = 4; c.inSize = [7, 9]; c.kernel = [3, 3]; c.stride = [2, 2]
        c.dilation = [1, 1]; c.padBegin = [1, 1]; c.padEnd = [1, 1]; c.outputPadding = [1, 1]
        runConv(c, transpose: true, seed: 31)
        // k4 s2 p1 (DCGAN style), groups 2, batch 2, ReLU.
        c.batch = 2; c.inChannels = 6; c.outChannels = 4; c.groups = 2; c.kernel = [4, 4]; c.outputPadding = [0, 0]
        c.clampMin = 0; runConv(c, transpose: true, seed: 32)
        // Asymmetric cropping, dilation.
        c = ConvCase(); c.inChannels = 3; c.outChannels = 5; c.inSize = [6, 5]; c.kernel = [3, 2]; c.stride = [1, 3]
        c.dilation = [2, 1]; c.padBegin = [2, 0]; c.padEnd = [0, 1]; c.outputPadding = [0, 2]
        runConv(c, transpose: true, seed: 33)
        // 1-d and 3-d.
        c = ConvCase(); c.spatial = 1; c.inChannels = 4; c.outChannels = 3; c.inSize = [20]; c.kernel = [5]
        c.stride = [3]; c.dilation = [1]; c.padBegin = [2]; c.padEnd = [1]; c.outputPadding = [2]
        runConv(c, transpose: true, seed: 34)
        c = ConvCase(); c.spatial = 3; c.inChannels = 3; c.outChannels = 2; c.inSize = [3, 4, 5]; c.kernel = [2, 3, 3]
        c.stride = [2, 1, 2]; c.dilation = [1, 1, 1]; c.padBegin = [0, 1, 1]; c.padEnd = [0, 1, 0]; c.outputPadding = [1, 0, 1]
        runConv(c, transpose: true, seed: 35)
        // Many output channels x kernel cells (tall column matrix).
        c = ConvCase(); c.inChannels = 16; c.outChannels = 40; c.inSize = [6, 6]; c.kernel = [3, 3]; c.stride = [2, 2]
        c.dilation = [1, 1]; c.padBegin = [0, 0]; c.padEnd = [0, 0]; c.outputPadding = [0, 0]
        runConv(c, transpose: true, seed: 36)
    }

    // MARK: - Pooling

    struct PoolCase {
        var spatial = 2, kind = CEDGE_POOL_MAX, batch = 1, channels = 1
        var inSize = [1], kernel = [1], stride = [1], dilation = [1], padBegin = [0], padEnd = [0]
        var ceilMode = false, countIncludePad = false, withIndices = false

        func desc() -> cedge_pool_desc {
            var d = cedge_pool_desc()
            d.spatial = Int32(spatial); d.kind = Int32(kind.rawValue); d.batch = Int32(batch); d.channels = Int32(channels)
            var out: [Int] = []
            for i in 0..<spatial {
                let ek = (kernel[i] - 1) * dilation[i] + 1
                let span = inSize[i] + padBegin[i] + padEnd[i] - ek
                var o = (ceilMode ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1
                // ONNX/PyTorch: the last window must start inside the input or the leading pad.
                if ceilMode && (o - 1) * stride[i] >= inSize[i] + padBegin[i] { o -= 1 }
                out.append(o)
            }
            d.in_size = kMakeTuple3(inSize); d.out_size = kMakeTuple3(out); d.kernel = kMakeTuple3(kernel)
            d.stride = kMakeTuple3(stride); d.dilation = kMakeTuple3(dilation); d.pad_begin = kMakeTuple3(padBegin)
            d.pad_end = kMakeTuple3(padEnd); d.count_include_pad = countIncludePad ? 1 : 0
            return d
        }

        var label: String {
            "\(kind == CEDGE_POOL_MAX ? "max" : "avg") sp\(spatial) b\(batch) c\(channels) in\(inSize) k\(kernel) "
                + "s\(stride) d\(dilation) p\(padBegin)/\(padEnd) ceil\(ceilMode) incpad\(countIncludePad) idx\(withIndices)"
        }
    }

    func runPool(_ c: PoolCase, seed: UInt64, line: UInt = #line) {
        let d = c.desc()
        let g = kGeom(d)
        guard g.outSize.allSatisfy({ $0 > 0 }) else { return XCTFail("bad case \(c.label)", line: line) }
        var rng = KernelRNG(seed: seed)
        let x = rng.floats(c.batch * c.channels * g.inPlane)
        let (want, wantIndices) = refPool(d, x: x)
        let count = c.batch * c.channels * g.outPlane
        let useIndices = c.withIndices && c.kind == CEDGE_POOL_MAX
        checkAllPaths("pool " + c.label, reference: want, line: line) {
            var y = [Float](repeating: .nan, count: count)
            var indices = [Int64](repeating: -7, count: count)
            withUnsafePointer(to: d) { dp in
                if useIndices { cedge_pool_f32(dp, x, &y, &indices) } else { cedge_pool_f32(dp, x, &y, nil) }
            }
            if useIndices {
                XCTAssertEqual(indices, wantIndices, "indices of \(c.label) [\(String(cString: cedge_kernel_isa()))]",
                               line: line)
            }
            return y
        }
    }

    func testPoolRandomShapes() {
        var rng = KernelRNG(seed: 0x5EED_0030)
        for i in 0..<80 {
            var c = PoolCase()
            c.spatial = rng.int(1, 3)
            c.kind = rng.bool() ? CEDGE_POOL_MAX : CEDGE_POOL_AVG
            c.batch = rng.int(1, 2); c.channels = rng.int(1, 4)
            c.ceilMode = rng.bool(); c.countIncludePad = rng.bool(); c.withIndices = rng.bool()
            c.inSize = []; c.kernel = []; c.stride = []; c.dilation = []; c.padBegin = []; c.padEnd = []
            for _ in 0..<c.spatial {
                let k = rng.int(1, 4), dl = c.kind == CEDGE_POOL_MAX ? rng.int(1, 2) : 1
                // ONNX: pads smaller than the kernel, so every window sees some input.
                let pb = rng.int(0, (k - 1) / 2), pe = rng.int(0, (k - 1) / 2)
                let ek = (k - 1) * dl + 1
                c.inSize.append(max(rng.int(1, c.spatial == 3 ? 7 : 19), ek))
                c.kernel.append(k); c.stride.append(rng.int(1, 3)); c.dilation.append(dl)
                c.padBegin.append(pb); c.padEnd.append(pe)
            }
            runPool(c, seed: UInt64(3000 + i))
        }
    }

    func testPoolNamedCases() {
        func pool2d(_ kind: cedge_pool_kind, _ hw: [Int], k: Int, s: Int, p: Int, channels: Int = 3) -> PoolCase {
            var c = PoolCase()
            c.kind = kind; c.channels = channels; c.batch = 2; c.inSize = hw; c.kernel = [k, k]; c.stride = [s, s]
            c.dilation = [1, 1]; c.padBegin = [p, p]; c.padEnd = [p, p]
            return c
        }
        // ResNet stem max pool with indices; 2x2 stride 2; ceil_mode on an odd size.
        var c = pool2d(CEDGE_POOL_MAX, [17, 16], k: 3, s: 2, p: 1); c.withIndices = true; runPool(c, seed: 41)
        runPool(pool2d(CEDGE_POOL_MAX, [12, 12], k: 2, s: 2, p: 0), seed: 42)
        c = pool2d(CEDGE_POOL_MAX, [7, 9], k: 2, s: 2, p: 0); c.ceilMode = true; c.withIndices = true; runPool(c, seed: 43)
        // Average, with and without counting pads, with ceil_mode windows that run past the padded input.
        for include in [false, true] {
            c = pool2d(CEDGE_POOL_AVG, [9, 10], k: 3, s: 2, p: 1); c.countIncludePad = include; c.ceilMode = true
            runPool(c, seed: 44)
            c = pool2d(CEDGE_POOL_AVG, [6, 6], k: 3, s: 1, p: 1); c.countIncludePad = include; runPool(c, seed: 45)
        }
        // Dilated max pool, 1-d and 3-d.
        c = pool2d(CEDGE_POOL_MAX, [11, 11], k: 3, s: 1, p: 1); c.dilation = [2, 2]; c.withIndices = true
        runPool(c, seed: 46)
        c = PoolCase(); c.spatial = 1; c.kind = CEDGE_POOL_AVG; c.channels = 2; c.inSize = [21]; c.kernel = [4]
        c.stride = [3]; c.padBegin = [1]; c.padEnd = [1]; c.ceilMode = true; c.countIncludePad = true; runPool(c, seed: 47)
        c = PoolCase(); c.spatial = 3; c.kind = CEDGE_POOL_MAX; c.channels = 2; c.inSize = [5, 6, 7]; c.kernel = [2, 3, 2]
        c.stride = [2, 2, 1]; c.dilation = [1, 1, 2]; c.padBegin = [0, 1, 1]; c.padEnd = [1, 1, 0]; c.withIndices = true
        runPool(c, seed: 48)
    }

    func testGlobalAveragePool() {
        var rng = KernelRNG(seed: 0x5EED_0040)
        for (batch, channels, cells) in [(1, 1, 1), (2, 3, 49), (1, 64, 196), (3, 5, 1001), (1, 300, 300)] {
            let x = rng.floats(batch * channels * cells)
            var want = [Float](repeating: 0, count: batch * channels)
            for p in 0..<batch * channels {
                var s: Double = 0
                for i in 0..<cells { s += Double(x[p * cells + i]) }
                want[p] = Float(s / Double(cells))
            }
            checkAllPaths("gap b\(batch) c\(channels) cells\(cells)", reference: want) {
                var y = [Float](repeating: .nan, count: batch * channels)
                cedge_global_avg_pool_f32(Int32(batch), Int32(channels), Int32(cells), x, &y)
                return y
            }
        }
    }
}
