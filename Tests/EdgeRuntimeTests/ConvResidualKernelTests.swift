// cedge_conv_f32_affine_packed_res: a residual Add [-> Relu] joined into the conv on every code path. Winograd
// joins it in its output transform (both lane layouts, split blocks on 2 threads, partial tiles); the other paths
// in a pass after the conv. Checked against the naive conv plus the join in Double, and bit for bit against the
// same path's conv followed by cedge_add_f32 / cedge_add_relu_f32 (what the unfused graph runs).
import CEdgeShim
import XCTest

extension KernelTests {
    /// The conv of `c` with a folded-norm epilogue, its clamp, then + r (and max(., 0) with relu). `nan`: r holds
    /// NaN there (relu makes it 0, as the Relu op does; without relu it stays NaN).
    func runResidualConv(_ c: ConvCase, relu: Bool, seed: UInt64, nan: Int? = nil, line: UInt = #line) {
        let d = c.desc(transpose: false)
        var rng = KernelRNG(seed: seed)
        let (x, w) = convOperands(c, &rng)
        let scale = (0..<c.outChannels).map { _ in (rng.bool() ? -1 : 1) * (0.25 + 2 * abs(rng.float())) }
        let shift = rng.floats(c.outChannels)
        let count = c.batch * c.outChannels * kGeom(d).outPlane
        var r = rng.floats(count).map { 2 * $0 }
        if let nan { r[nan] = .nan }
        let affine = affineReference(c, x: x, w: w, scale: scale, shift: shift)
        var want = affine.indices.map { i -> Float in
            let s = Double(affine[i]) + Double(r[i])
            return relu ? Float(s > 0 ? s : 0) : Float(s)
        }
        let label = "residual conv " + c.label + " relu \(relu)"
        func conv(joined: Bool) -> [Float] {
            var y = [Float](repeating: .nan, count: count)
            withUnsafePointer(to: d) { dp in
                r.withUnsafeBufferPointer { rp in
                    if joined {
                        var res = cedge_conv_residual(r: rp.baseAddress, relu: relu ? 1 : 0)
                        cedge_conv_f32_affine_packed_res(dp, x, w, nil, scale, shift, &res, &y)
                    } else {
                        cedge_conv_f32_affine_packed(dp, x, w, nil, scale, shift, &y)
                        y.withUnsafeMutableBufferPointer { yp in
                            if relu { cedge_add_relu_f32(count, yp.baseAddress, rp.baseAddress, yp.baseAddress) }
                            else { cedge_add_f32(count, yp.baseAddress, rp.baseAddress, yp.baseAddress) }
                        }
                    }
                }
            }
            return y
        }
        // A NaN kept (no Relu) is checked below: the comparison with the reference takes it as 0.
        if let nan, !relu { want[nan] = 0 }
        checkAllPaths(label, reference: want, line: line) {
            var y = conv(joined: true)
            if let nan, !relu, y[nan].isNaN { y[nan] = 0 }
            return y
        }
        for path in KernelTests.paths {
            XCTAssertEqual(cedge_kernel_select(path), 0)
            for threads: Int32 in [1, 2] {
                cedge_set_threads(threads)
                let got = conv(joined: true), unjoined = conv(joined: false)
                let same = zip(got, unjoined).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                XCTAssertTrue(same, "\(label) [\(path), \(threads) threads]: joined differs from conv + add", line: line)
                if let nan, relu { XCTAssertEqual(got[nan], 0, "\(label): Relu of NaN", line: line) }
                if let nan, !relu { XCTAssertTrue(got[nan].isNaN, "\(label): NaN kept without Relu", line: line) }
            }
        }
        _ = cedge_kernel_select(nil)
        // Not a degenerate case: the join both adds and, with relu, clamps.
        XCTAssertGreaterThan(Set(want).count, count / 4, label, line: line)
        if relu { XCTAssertTrue(want.contains(0) && want.contains { $0 > 0 }, label, line: line) }
    }

    func testResidualJoinOnEveryPath() {
        var cases: [(ConvCase, Bool)] = [
            (conv3x3(16, 16, [28, 28]), true),              // Winograd tiles in lanes: two blocks
            (conv3x3(32, 32, [14, 14]), true),              // one block: split on 2 threads
            (conv3x3(64, 64, [7, 7]), true),                // channels in lanes
            (conv3x3(20, 40, [7, 7]), false),               // channels in lanes, K past one panel, not a multiple
            (conv3x3(24, 40, [13, 11], batch: 3), true),    // partial tiles at the bottom and right edges
            (conv3x3(16, 24, [12, 12], batch: 2), false),   // the conv's own clamp before the join
            (ConvCase.conv2d(16, 32, [14, 14], k: 3, s: 2, p: 1, relu: false), true),   // pixel rows (strided)
            (ConvCase.conv2d(24, 40, [9, 7], k: 1, batch: 2, relu: false), true),       // 1x1 GEMM
            (ConvCase.conv2d(32, 32, [20, 20], k: 3, p: 1, groups: 32, relu: false), false),   // depthwise
            (ConvCase.conv2d(4, 5, [6, 6], k: 5, relu: false), true),                   // im2col
        ]
        cases[5].0.clampMin = -0.5
        cases[5].0.clampMax = 0.75
        for (i, (c, relu)) in cases.enumerated() { runResidualConv(c, relu: relu, seed: UInt64(900 + i)) }
        // NaN in the residual, in a full tile and in a partial one.
        runResidualConv(conv3x3(16, 16, [28, 28]), relu: true, seed: 920, nan: 5 * 784 + 3 * 28 + 2)
        runResidualConv(conv3x3(24, 40, [13, 11]), relu: true, seed: 921, nan: 7 * 143 + 142)
        runResidualConv(conv3x3(64, 64, [7, 7]), relu: false, seed: 922, nan: 40 * 49 + 48)
    }
}
