// The pixel-rows GEMM for strided convs (conv_pixel_rows_fp32.c) against the naive conv on every code path: the
// paths without it (AVX2, generic, portable) compute the same convs by the shifted-window GEMM or loops. Cases
// cover row panels split unevenly, output-channel panels short of NR (one and two vectors), strides other than
// 2 and unequal ones, dilation, pads at either end, inputs read in place (no pads), 1-d convs and batches;
// at batch 1 on 2 threads, tasks that pad their own rows.
import CEdgeShim
import XCTest

extension KernelTests {
    func pixelRows(_ c: ConvCase) -> Int32 {
        let d = c.desc(transpose: false)
        return withUnsafePointer(to: d) { cedge_conv_f32_pixel_rows($0) }
    }

    func testPixelRowsStridedConvs() {
        var cases: [ConvCase] = [
            ConvCase.conv2d(16, 32, [28, 28], k: 3, s: 2, p: 1),             // the edge model's: 14 wide, two panels of 7
            ConvCase.conv2d(32, 64, [14, 14], k: 3, s: 2, p: 1),             // 7x7 out, two channel panels
            ConvCase.conv2d(16, 32, [28, 28], k: 1, s: 2),                   // 1x1 shortcut: x read in place
            ConvCase.conv2d(64, 40, [13, 11], k: 3, s: 2, p: 1, batch: 3),   // K = 576; 40 = 32 + 8 channels
            ConvCase.conv2d(5, 70, [9, 41], k: 3, s: 2, p: 1),               // 21 wide: three panels; 70 = 32 + 32 + 6
            ConvCase.conv2d(8, 12, [10, 10], k: 5, s: 3, p: 2),              // stride 3, 5x5
            ConvCase.conv2d(6, 17, [12, 18], k: 3, s: 2, p: 0),              // no pads but a 3x3 window
            ConvCase.conv2d(4, 9, [7, 7], k: 3, s: 2, p: 1, relu: false),    // 4x4 out, no clamp
            ConvCase.conv2d(6, 20, [9, 41], k: 3, s: 2, p: 1),               // 5x21: on 2 threads split mid-row
        ]
        cases[4].stride = [1, 2]                 // strided along the width only
        cases[5].padEnd = [0, 1]
        cases[6].dilation = [2, 2]
        cases[3].clampMin = -0.5
        cases[3].clampMax = 0.75
        var oneD = ConvCase()
        oneD.spatial = 1; oneD.batch = 2; oneD.inChannels = 12; oneD.outChannels = 20; oneD.inSize = [50]
        oneD.kernel = [4]; oneD.stride = [3]; oneD.dilation = [1]; oneD.padBegin = [1]; oneD.padEnd = [2]
        cases.append(oneD)

        if String(cString: cedge_kernel_isa()) == "avx512" {
            for c in cases { XCTAssertEqual(pixelRows(c), 1, "takes the pixel-rows GEMM: \(c.label)") }
            var unstrided = cases[0]
            unstrided.stride = [2, 1]
            XCTAssertEqual(pixelRows(unstrided), 0, "stride 1 along the width")
            var grouped = cases[1]
            grouped.groups = 2
            XCTAssertEqual(pixelRows(grouped), 0, "grouped")
        }
        var rng = KernelRNG(seed: 0x9157)
        for (i, c) in cases.enumerated() {
            runConv(c, transpose: false, seed: UInt64(900 + i))
            // The folded-norm epilogue (scale of both signs per channel), with the weights packed once.
            let s = (0..<c.outChannels).map { _ in (rng.bool() ? -1 : 1) * (0.25 + 2 * abs(rng.float())) }
            runAffineConv(c, scale: s, shift: rng.floats(c.outChannels), seed: UInt64(920 + i), prepack: true)
        }
    }
}

extension KernelTests {
    /// cedge_conv_f32_pair against each conv's naive reference (with its folded-norm epilogue), and bit for bit
    /// against the two convs run alone on the same path.
    func runConvPair(_ a: ConvCase, _ b: ConvCase, seed: UInt64, prepack: Bool, line: UInt = #line) {
        let da = a.desc(transpose: false), db = b.desc(transpose: false)
        let ga = kGeom(da), gb = kGeom(db)
        var rng = KernelRNG(seed: seed)
        let x = rng.floats(a.batch * a.inChannels * ga.inPlane)
        let wa = rng.floats(a.outChannels * a.inChannels * ga.kernelVolume)
        let wb = rng.floats(b.outChannels * b.inChannels * gb.kernelVolume)
        func scales(_ n: Int) -> [Float] { (0..<n).map { _ in (rng.bool() ? -1 : 1) * (0.25 + 2 * abs(rng.float())) } }
        let sa = scales(a.outChannels), ha = rng.floats(a.outChannels)
        let sb = scales(b.outChannels), hb = rng.floats(b.outChannels)
        let want = affineReference(a, x: x, w: wa, scale: sa, shift: ha) + affineReference(b, x: x, w: wb, scale: sb, shift: hb)
        let na = a.batch * a.outChannels * ga.outPlane, nb = b.batch * b.outChannels * gb.outPlane
        func packed(_ d: cedge_conv_desc, _ w: [Float]) -> [UInt8] {
            guard prepack else { return [] }
            var d = d
            var bytes = [UInt8](repeating: 0, count: cedge_conv_f32_packed_bytes(&d) + 64)
            if bytes.count > 64 {
                bytes.withUnsafeMutableBytes { cedge_conv_f32_pack(&d, w, $0.baseAddress!.alignedUp(toMultipleOf: 64)) }
            }
            return bytes
        }
        func buffer(_ a: [Float]) -> UnsafeMutableBufferPointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: a.count)
            _ = p.initialize(from: a)
            return p
        }
        func run(paired: Bool) -> [Float] {
            var ya = [Float](repeating: .nan, count: na), yb = [Float](repeating: .nan, count: nb)
            var da = da, db = db
            let pa = packed(da, wa), pb = packed(db, wb)
            pa.withUnsafeBytes { ra in
                pb.withUnsafeBytes { rb in
                    let qa = pa.count > 64 ? UnsafeRawPointer(ra.baseAddress!.alignedUp(toMultipleOf: 64)) : nil
                    let qb = pb.count > 64 ? UnsafeRawPointer(rb.baseAddress!.alignedUp(toMultipleOf: 64)) : nil
                    ya.withUnsafeMutableBufferPointer { yap in
                        yb.withUnsafeMutableBufferPointer { ybp in
                            if paired {
                                withUnsafePointer(to: &da) { dap in
                                    withUnsafePointer(to: &db) { dbp in
                                        // The jobs hold pointers past their initialiser: the arrays' buffers, pinned here.
                                        let (pwa, psa, pha) = (buffer(wa), buffer(sa), buffer(ha))
                                        let (pwb, psb, phb) = (buffer(wb), buffer(sb), buffer(hb))
                                        defer { for p in [pwa, psa, pha, pwb, psb, phb] { p.deallocate() } }
                                        var ja = cedge_conv_job(d: dap, w: pwa.baseAddress, packed: qa, scale: psa.baseAddress,
                                                                shift: pha.baseAddress, y: yap.baseAddress)
                                        var jb = cedge_conv_job(d: dbp, w: pwb.baseAddress, packed: qb, scale: psb.baseAddress,
                                                                shift: phb.baseAddress, y: ybp.baseAddress)
                                        cedge_conv_f32_pair(x, &ja, &jb)
                                    }
                                }
                            } else {
                                cedge_conv_f32_affine_packed(&da, x, wa, qa, sa, ha, yap.baseAddress)
                                cedge_conv_f32_affine_packed(&db, x, wb, qb, sb, hb, ybp.baseAddress)
                            }
                        }
                    }
                }
            }
            return ya + yb
        }
        checkAllPaths("conv pair " + a.label + " + " + b.label + " prepack \(prepack)", reference: want, line: line) {
            let paired = run(paired: true), alone = run(paired: false)
            XCTAssertEqual(paired.map { $0.bitPattern }, alone.map { $0.bitPattern },
                           "paired equals the two convs alone [\(String(cString: cedge_kernel_isa()))]", line: line)
            return paired
        }
    }

    func testConvPairSharesOnePass() {
        var pairs: [(ConvCase, ConvCase)] = [
            (ConvCase.conv2d(16, 32, [28, 28], k: 3, s: 2, p: 1), ConvCase.conv2d(16, 32, [28, 28], k: 1, s: 2, relu: false)),
            (ConvCase.conv2d(32, 64, [14, 14], k: 3, s: 2, p: 1), ConvCase.conv2d(32, 64, [14, 14], k: 1, s: 2, relu: false)),
            // A narrower shortcut, a 5x5 main conv (tap 2, 2), batch 2, odd sizes.
            (ConvCase.conv2d(12, 40, [15, 13], k: 5, s: 2, p: 2, batch: 2), ConvCase.conv2d(12, 20, [15, 13], k: 1, s: 2)),
            // More shortcut panels than main ones; and an unpadded main conv whose output is smaller (no shared pass).
            (ConvCase.conv2d(8, 16, [9, 9], k: 3, s: 2, p: 1), ConvCase.conv2d(8, 70, [9, 9], k: 1, s: 2)),
            (ConvCase.conv2d(8, 16, [9, 9], k: 3, s: 2, p: 0), ConvCase.conv2d(8, 16, [9, 9], k: 1, s: 2)),
        ]
        pairs[2].0.clampMin = -0.5
        pairs[2].0.clampMax = 0.75
        for (i, (a, b)) in pairs.enumerated() {
            runConvPair(a, b, seed: UInt64(960 + i), prepack: false)
            runConvPair(a, b, seed: UInt64(970 + i), prepack: true)
        }
    }
}
