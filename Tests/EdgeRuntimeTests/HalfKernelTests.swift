// fp16 weights in the C kernels: binary16 conversions against Swift's own Float16 (every bit pattern), and the
// binary16-weight convolution on every code path against the fp32 convolution of the same (rounded) weights:
// bit-identical where both take the same GEMM path (both widen exactly, then run the same fp32 arithmetic;
// fp32 alone may take Winograd), packed equal to unpacked, and against refConv.
import CEdgeShim
import XCTest

extension KernelTests {
    func testHalfWideningMatchesSwiftFloat16ForEveryBitPattern() {
        let all = (0...0xFFFF).map { UInt16($0) }
        for path in KernelTests.paths {
            XCTAssertEqual(cedge_kernel_select(path), 0)
            var bulk = [Float](repeating: 0, count: all.count)
            cedge_half_to_float_n(all.count, all, &bulk)
            for h in all {
                let want = Float(Float16(bitPattern: h)), scalar = cedge_half_to_float(h), got = bulk[Int(h)]
                if want.isNaN {
                    XCTAssert(scalar.isNaN && got.isNaN, "\(path): 0x\(String(h, radix: 16)) must widen to NaN")
                } else if scalar.bitPattern != want.bitPattern || got.bitPattern != want.bitPattern {
                    XCTFail("\(path): 0x\(String(h, radix: 16)) widens to \(scalar) / \(got) (bulk), want \(want)")
                    return
                }
            }
        }
        _ = cedge_kernel_select(nil)
    }

    func testHalfNarrowingRoundsLikeSwiftFloat16() {
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e9, .infinity, -.infinity,
                               Float(bitPattern: 0x3880_0000), Float(bitPattern: 0x387F_FFFF),   // around 2^-14
                               Float(bitPattern: 0x3300_0000), Float(bitPattern: 0x3300_0001),   // 2^-25: ties
                               Float(bitPattern: 0x3280_0000), 5.9604645e-8, 1e-10, .leastNonzeroMagnitude]
        // Exact ties between binary16 neighbours (round to even) and their floats either side.
        for h in stride(from: UInt16(0x0001), to: 0x7BFF, by: 97) {
            let lo = Float(Float16(bitPattern: h)), hi = Float(Float16(bitPattern: h + 1))
            let mid = (lo + hi) / 2
            values += [mid, mid.nextUp, mid.nextDown, -mid]
        }
        var rng = KernelRNG(seed: 0xF16)
        for _ in 0..<200_000 {
            // Exponents from far below the subnormals to past the overflow threshold.
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let exponent = UInt32(rng.int(80, 150)) << 23
            values.append(Float(bitPattern: (bits & 0x807F_FFFF) | exponent))
        }
        for v in values {
            let got = cedge_float_to_half(v), want = Float16(v).bitPattern
            if got != want {
                XCTFail("\(v) (0x\(String(v.bitPattern, radix: 16))) narrows to 0x\(String(got, radix: 16)), want 0x\(String(want, radix: 16))")
                return
            }
        }
        XCTAssert(Float16(bitPattern: cedge_float_to_half(.nan)).isNaN)
    }

    /// The binary16-weight conv of `c`, packed and unpacked, against the fp32 conv of the widened weights.
    func runHalfWeightConv(_ c: ConvCase, seed: UInt64, line: UInt = #line) {
        let d = c.desc(transpose: false)
        let g = kGeom(d)
        var rng = KernelRNG(seed: seed)
        let x = rng.floats(c.batch * c.inChannels * g.inPlane)
        let half = rng.floats(c.outChannels * (c.inChannels / c.groups) * g.kernelVolume).map { Float16($0 * 0.5) }
        let bits = half.map { $0.bitPattern }, wide = half.map { Float($0) }
        let scale: [Float] = (0..<c.outChannels).map { _ in 1 + rng.float() * 0.5 }, shift = rng.floats(c.outChannels)
        var plain = d   // refConv clamps with the desc's bounds: the epilogue below applies them after the affine
        plain.clamp_min = -.infinity
        plain.clamp_max = .infinity
        let want = refConv(plain, x: x, w: wide, bias: nil).enumerated().map { i, v in
            let oc = (i / g.outPlane) % c.outChannels
            return min(max(v * scale[oc] + shift[oc], c.clampMin), c.clampMax)
        }
        let count = c.batch * c.outChannels * g.outPlane
        for path in KernelTests.paths {
            XCTAssertEqual(cedge_kernel_select(path), 0, line: line)
            withUnsafePointer(to: d) { dp in
                // Packs are made on the path that reads them (they record it).
                let bytes32 = cedge_conv_f32_packed_bytes(dp), bytes16 = cedge_conv_f16w_packed_bytes(dp)
                XCTAssertEqual(bytes16 == 0, bytes32 == 0, line: line)
                let pack32 = UnsafeMutableRawPointer.allocate(byteCount: max(bytes32, 64), alignment: 64)
                let pack16 = UnsafeMutableRawPointer.allocate(byteCount: max(bytes16, 64), alignment: 64)
                defer { pack32.deallocate(); pack16.deallocate() }
                if bytes32 > 0 {
                    cedge_conv_f32_pack(dp, wide, pack32)
                    XCTAssertEqual(cedge_conv_f16w_pack(dp, bits, pack16), 0, line: line)
                }
                for threads: Int32 in [1, 2] {
                    cedge_set_threads(threads)
                    func run(_ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
                        var y = [Float](repeating: .nan, count: count)
                        y.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
                        return y
                    }
                    let p32 = bytes32 > 0 ? UnsafeRawPointer(pack32) : nil, p16 = bytes16 > 0 ? UnsafeRawPointer(pack16) : nil
                    let f32 = run { cedge_conv_f32_affine_packed(dp, x, wide, p32, scale, shift, $0) }
                    let f16 = run { cedge_conv_f16w_affine_packed(dp, x, bits, p16, scale, shift, $0) }
                    let f32u = run { cedge_conv_f32_affine_packed(dp, x, wide, nil, scale, shift, $0) }
                    let f16u = run { cedge_conv_f16w_affine_packed(dp, x, bits, nil, scale, shift, $0) }
                    // A pack of the other element size is ignored (not misread as this one's).
                    let mixed = run { cedge_conv_f16w_affine_packed(dp, x, bits, p32, scale, shift, $0) }
                    let what = "fp16w conv \(c.label) [\(path), \(threads) threads]"
                    // Binary16 weights always take the GEMM paths; fp32 may take Winograd (other rounding).
                    if cedge_conv_f32_winograd(dp) == 0 {
                        XCTAssertEqual(f16.map(\.bitPattern), f32.map(\.bitPattern), "\(what): packed", line: line)
                        XCTAssertEqual(f16u.map(\.bitPattern), f32u.map(\.bitPattern), "\(what): unpacked", line: line)
                    }
                    XCTAssertEqual(f16u.map(\.bitPattern), f16.map(\.bitPattern), "\(what): unpacked vs packed", line: line)
                    XCTAssertEqual(mixed.map(\.bitPattern), f16u.map(\.bitPattern), "\(what): fp32 pack", line: line)
                    let (e, at) = kernelMismatch(f16, want)
                    XCTAssert(e <= 1e-4, "\(what) vs reference: error \(e) at \(at)", line: line)
                }
            }
        }
        _ = cedge_kernel_select(nil)
        cedge_set_threads(0)
    }

    func testHalfWeightConvMatchesFp32OnWidenedWeights() {
        // ReLU on every case (the models' layers). Shifted windows (3x3 s1/s2), the stem, 1x1 GEMM, M and K across
        // their blocks with a partial row panel, im2col, one output cell, grouped, depthwise, batch > 1: every
        // path the packed and unpacked weights take.
        runHalfWeightConv(ConvCase.conv2d(16, 16, [12, 12], k: 3, p: 1), seed: 1)
        runHalfWeightConv(ConvCase.conv2d(16, 32, [28, 28], k: 3, s: 2, p: 1), seed: 2)
        runHalfWeightConv(ConvCase.conv2d(1, 16, [28, 28], k: 3, p: 1, batch: 2), seed: 3)
        runHalfWeightConv(ConvCase.conv2d(24, 40, [9, 7], k: 1, batch: 3), seed: 4)
        runHalfWeightConv(ConvCase.conv2d(32, 150, [6, 6], k: 3, p: 1, batch: 2), seed: 5)
        runHalfWeightConv(ConvCase.conv2d(64, 64, [7, 7], k: 3, p: 1, batch: 2), seed: 6)
        runHalfWeightConv(ConvCase.conv2d(4, 5, [6, 6], k: 5), seed: 7)
        runHalfWeightConv(ConvCase.conv2d(10, 7, [3, 3], k: 3, batch: 2), seed: 8)
        runHalfWeightConv(ConvCase.conv2d(8, 12, [9, 9], k: 3, p: 1, groups: 4), seed: 9)
        runHalfWeightConv(ConvCase.conv2d(24, 24, [11, 11], k: 3, s: 2, p: 1, groups: 24, batch: 2), seed: 10)
        var rng = KernelRNG(seed: 0x5EED_F160)
        for i in 0..<25 { runHalfWeightConv(randomConvCase(&rng, transpose: false), seed: UInt64(2000 + i)) }
    }
}
