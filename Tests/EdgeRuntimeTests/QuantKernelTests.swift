// int8 convolution kernels: every dot path this CPU runs (generic C, AVX2, NEON, NEON dot product) against
// the definition loops in cedge_qconv_reference, bit for bit, on random and edge-case shapes.
import CEdgeShim
import Glibc
import XCTest

final class QuantKernelTests: XCTestCase {
    override func tearDown() {
        _ = cedge_qkernel_select("auto")
        cedge_set_threads(0)
    }

    struct Case {
        var batch = 1, inC = 3, outC = 5, groups = 1
        var size = [7, 6], kernel = [3, 3], stride = [1, 1], pad = [1, 1], dilation = [1, 1]
        var inKind = CEDGE_Q_UINT8, outKind = CEDGE_Q_UINT8
        var inZero: Int32 = 128, outZero: Int32 = 3
    }

    func desc(_ c: Case) -> cedge_qconv_desc {
        var d = cedge_qconv_desc()
        let k = c.size.count
        d.conv.spatial = Int32(k)
        d.conv.batch = Int32(c.batch)
        d.conv.in_channels = Int32(c.inC)
        d.conv.out_channels = Int32(c.outC)
        d.conv.groups = Int32(c.groups)
        var out: [Int] = []
        for i in 0..<k {
            let span = (c.kernel[i] - 1) * c.dilation[i] + 1
            out.append((c.size[i] + 2 * c.pad[i] - span) / c.stride[i] + 1)
        }
        func set(_ t: inout (Int32, Int32, Int32), _ v: [Int], _ fill: Int32 = 1) {
            t = (v.count > 0 ? Int32(v[0]) : fill, v.count > 1 ? Int32(v[1]) : fill, v.count > 2 ? Int32(v[2]) : fill)
        }
        set(&d.conv.in_size, c.size)
        set(&d.conv.out_size, out)
        set(&d.conv.kernel, c.kernel)
        set(&d.conv.stride, c.stride)
        set(&d.conv.dilation, c.dilation)
        set(&d.conv.pad_begin, c.pad, 0)
        d.in_kind = Int32(c.inKind.rawValue)
        d.in_zero = c.inZero
        d.out_kind = Int32(c.outKind.rawValue)
        d.out_zero = c.outZero
        switch c.outKind {
        case CEDGE_Q_UINT8: d.out_lo = Float(0 - c.outZero); d.out_hi = Float(255 - c.outZero)
        case CEDGE_Q_INT8: d.out_lo = Float(-128 - c.outZero); d.out_hi = Float(127 - c.outZero)
        default: d.out_lo = -.infinity; d.out_hi = .infinity
        }
        return d
    }

    func paths() -> [String] {
        ["generic", "avx2", "avx512-vnni", "neon", "neon-dotprod"].filter { cedge_qkernel_select($0) == 0 }
    }

    /// Runs one case on every path and compares the output bytes with the reference. With `guardPage` the
    /// kernels read the input from memory that ends where an unmapped page begins, so a read past the input's
    /// last byte faults instead of passing unseen.
    func check(_ c: Case, seed: UInt64, guardPage: Bool = false, line: UInt = #line) {
        var rng = KernelRNG(seed: seed)
        var d = desc(c)
        let inCount = c.batch * c.inC * c.size.reduce(1, *)
        let kg = c.inC / c.groups * c.kernel.reduce(1, *)
        let x: [UInt8] = (0..<inCount).map { _ in UInt8(rng.int(0, 255)) }
        // Full range weights including -128, so nothing relies on symmetric ranges.
        let w: [Int8] = (0..<(c.outC * kg)).map { _ in Int8(rng.int(-128, 127)) }
        let mult: [Float] = (0..<c.outC).map { _ in 1e-3 * (1 + rng.float()) }
        let bias: [Float] = (0..<c.outC).map { _ in 20 * rng.float() }
        var outPlane = 1
        for i in 0..<c.size.count {
            let t = [d.conv.out_size.0, d.conv.out_size.1, d.conv.out_size.2][i]
            outPlane *= Int(t)
        }
        let outBytes = c.batch * c.outC * outPlane * (c.outKind == CEDGE_Q_FLOAT32 ? 4 : 1)
        var want = [UInt8](repeating: 0, count: outBytes)
        cedge_qconv_reference(&d, x, w, mult, bias, &want)
        var packed = [Int8](repeating: 0, count: cedge_qconv_packed_bytes(&d))
        var rowsum = [Int32](repeating: 0, count: cedge_qconv_rowsum_count(&d))
        cedge_qconv_pack(&d, w, &packed, &rowsum)
        let input = guardPage ? GuardedBytes(x) : nil
        for path in paths() {
            XCTAssertEqual(cedge_qkernel_select(path), 0)
            for threads in [1, 2] {
                cedge_set_threads(Int32(threads))
                var got = [UInt8](repeating: 0xEE, count: outBytes)
                if let input { cedge_qconv_run(&d, input.start, packed, rowsum, mult, bias, &got) }
                else { cedge_qconv_run(&d, x, packed, rowsum, mult, bias, &got) }
                XCTAssertEqual(got, want, "path \(path), \(threads) threads, case \(c)", line: line)
            }
        }
    }

    /// Bytes whose last one sits just before a PROT_NONE page.
    final class GuardedBytes {
        let base: UnsafeMutableRawPointer, length: Int, start: UnsafeMutableRawPointer
        init(_ bytes: [UInt8]) {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let dataPages = (bytes.count + page - 1) / page
            length = (dataPages + 1) * page
            base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
            precondition(base != MAP_FAILED && mprotect(base + dataPages * page, page, PROT_NONE) == 0)
            start = base + dataPages * page - bytes.count
            bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        deinit { munmap(base, length) }
    }

    func testInputEndingAtAnUnmappedPage() {
        // The direct path's repack reads whole 16-column vector steps past a row's end while the tensor goes on;
        // at the tensor's end it must stop. Widths that leave partial steps, both strides, window quads, Gemm.
        var c = Case(); c.inC = 5; c.outC = 9; c.size = [3, 37]
        check(c, seed: 30, guardPage: true)                      // stride 1: 16 + 16 + 5 columns
        c.inKind = CEDGE_Q_INT8; c.inZero = -3
        check(c, seed: 31, guardPage: true)
        c = Case(); c.inC = 6; c.size = [5, 29]; c.stride = [2, 2]; c.batch = 2
        check(c, seed: 32, guardPage: true)                      // stride 2: 32 bytes read per 16 columns
        c = Case(); c.inC = 16; c.outC = 32; c.size = [14, 14]; c.kernel = [1, 1]; c.pad = [0, 0]; c.stride = [2, 2]
        check(c, seed: 33, guardPage: true)                      // ResNet shortcut
        c = Case(); c.inC = 1; c.outC = 16; c.size = [6, 30]
        check(c, seed: 34, guardPage: true)                      // one input channel: the padded window row
        c = Case(); c.inC = 37; c.outC = 3; c.kernel = [1, 1]; c.pad = [0, 0]; c.size = [1, 1]; c.batch = 5
        check(c, seed: 35, guardPage: true)                      // Gemm-like
        c = Case(); c.inC = 3; c.size = [4, 7]; c.batch = 3
        check(c, seed: 36, guardPage: true)                      // narrower than one vector step
    }

    func testReferenceMatchesHandComputedValue() {
        // 1x1 input channel, 2x2 image, one 2x2 filter, no padding: a single dot product, by hand.
        var c = Case()
        c.inC = 1; c.outC = 1; c.size = [2, 2]; c.kernel = [2, 2]; c.pad = [0, 0]
        c.inKind = CEDGE_Q_UINT8; c.inZero = 10; c.outKind = CEDGE_Q_FLOAT32; c.outZero = 0
        var d = desc(c)
        let x: [UInt8] = [12, 10, 7, 20]          // minus zero point: 2, 0, -3, 10
        let w: [Int8] = [3, -5, 4, -1]            // 6 + 0 - 12 - 10 = -16
        let mult: [Float] = [0.5], bias: [Float] = [1]
        var y: [Float] = [0]
        cedge_qconv_reference(&d, x, w, mult, bias, &y)
        XCTAssertEqual(y[0], -7)                  // -16 * 0.5 + 1
        // Quantized output with zero point 100, clamped and rounded half to even: -7.5 -> -8 -> 92.
        c.outKind = CEDGE_Q_UINT8; c.outZero = 100
        d = desc(c)
        var q: [UInt8] = [0]
        let bias2: [Float] = [0.5]
        cedge_qconv_reference(&d, x, w, mult, bias2, &q)
        XCTAssertEqual(q[0], 92)
    }

    func testNamedCases() {
        var c = Case()
        check(c, seed: 1)                                        // 3x3 pad 1, u8 -> u8
        c.inKind = CEDGE_Q_INT8; c.inZero = -5; c.outKind = CEDGE_Q_INT8; c.outZero = -2
        check(c, seed: 2)
        c.outKind = CEDGE_Q_FLOAT32
        check(c, seed: 3)
        c = Case(); c.stride = [2, 2]; c.size = [9, 8]; c.batch = 3
        check(c, seed: 4)                                        // stride 2, batch 3
        c = Case(); c.inC = 6; c.outC = 6; c.groups = 6
        check(c, seed: 5)                                        // depthwise
        c = Case(); c.inC = 4; c.outC = 6; c.groups = 2; c.dilation = [2, 1]; c.size = [9, 9]; c.pad = [2, 1]
        check(c, seed: 6)                                        // grouped, dilated
        c = Case(); c.inC = 37; c.outC = 1; c.kernel = [1, 1]; c.pad = [0, 0]; c.size = [1, 1]; c.batch = 33
        check(c, seed: 7)                                        // Gemm-like: K = 37, N = 33
        c = Case(); c.size = [11]; c.kernel = [4]; c.stride = [3]; c.pad = [2]; c.dilation = [1]
        check(c, seed: 8)                                        // 1-D
        c = Case(); c.inC = 64; c.outC = 17; c.size = [5, 5]
        check(c, seed: 9)                                        // K = 576, M not a multiple of 4
        c = Case(); c.inC = 1; c.outC = 16; c.size = [13, 15]; c.stride = [2, 2]; c.dilation = [1, 2]; c.pad = [1, 2]
        check(c, seed: 10)                                       // one input channel: window quads, strided, dilated
        c = Case(); c.inC = 1; c.outC = 3; c.size = [9, 9]; c.kernel = [5, 5]; c.pad = [2, 2]; c.inKind = CEDGE_Q_INT8; c.inZero = 9
        check(c, seed: 11)                                       // window quads across two quads (KW = 5)
        c = Case(); c.inC = 16; c.outC = 32; c.size = [14, 14]; c.kernel = [1, 1]; c.pad = [0, 0]; c.stride = [2, 2]; c.batch = 2
        check(c, seed: 12)                                       // a ResNet shortcut: 1x1, stride 2
        c = Case(); c.inC = 64; c.outC = 10; c.kernel = [1, 1]; c.pad = [0, 0]; c.size = [1, 1]; c.batch = 32
        check(c, seed: 13)                                       // the classifier Gemm at batch 32
        c = Case(); c.inC = 3; c.outC = 5; c.size = [3, 4, 5]; c.kernel = [2, 3, 3]; c.stride = [1, 1, 1]; c.pad = [1, 1, 1]; c.dilation = [1, 1, 1]
        check(c, seed: 14)                                       // 3-D: the im2col path
        c = Case(); c.inC = 7; c.outC = 9; c.size = [6, 45]; c.stride = [2, 2]; c.pad = [1, 2]
        check(c, seed: 15)                                       // stride 2 over wide rows: whole and partial steps
        c = Case(); c.inC = 1; c.outC = 8; c.size = [5, 41]; c.kernel = [3, 7]; c.pad = [1, 3]; c.dilation = [1, 2]
        check(c, seed: 16)                                       // window quads, stride 1, dilated, wide
    }

    func testRandomShapes() {
        var rng = KernelRNG(seed: 42)
        for i in 0..<24 {
            var c = Case()
            c.groups = rng.int(1, 3)
            c.inC = c.groups * rng.int(1, 9)
            c.outC = c.groups * rng.int(1, 9)
            c.batch = rng.int(1, 3)
            let k = rng.int(1, 4), s = rng.int(1, 2), p = rng.int(0, k - 1)
            c.size = [rng.int(k, 12), rng.int(k, 12)]
            c.kernel = [k, rng.int(1, 3)]
            c.stride = [s, 1]
            c.pad = [p, 0]
            c.inKind = rng.bool() ? CEDGE_Q_UINT8 : CEDGE_Q_INT8
            c.inZero = c.inKind == CEDGE_Q_UINT8 ? Int32(rng.int(0, 255)) : Int32(rng.int(-128, 127))
            c.outKind = [CEDGE_Q_UINT8, CEDGE_Q_INT8, CEDGE_Q_FLOAT32][rng.int(0, 2)]
            c.outZero = c.outKind == CEDGE_Q_UINT8 ? Int32(rng.int(0, 255)) : c.outKind == CEDGE_Q_INT8 ? Int32(rng.int(-128, 127)) : 0
            check(c, seed: UInt64(100 + i))
        }
    }

    func testPathNames() {
        XCTAssertTrue(paths().contains("generic"))
        #if arch(x86_64)
        // The best path this CPU has is the default.
        let best = paths().contains("avx512-vnni") ? "avx512-vnni" : paths().contains("avx2") ? "avx2" : "generic"
        XCTAssertEqual(cedge_qkernel_select("auto"), 0)
        XCTAssertEqual(String(cString: cedge_qkernel_isa()), best)
        #endif
        XCTAssertEqual(cedge_qkernel_select("no-such-path"), -1)
    }
}
