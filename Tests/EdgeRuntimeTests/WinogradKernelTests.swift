// The Winograd F(4x4, 3x3) conv path (both lane layouts) against the naive conv on every code path: the
// paths without Winograd (generic, portable) compute the same convs by GEMM or loops, so the comparison
// with portable covers the transforms, the partial tiles at the borders, and the packed weights.
import CEdgeShim
import XCTest

extension KernelTests {
    func conv3x3(_ ic: Int, _ oc: Int, _ hw: [Int], pad: Int = 1, batch: Int = 1) -> ConvCase {
        var c = ConvCase()
        c.batch = batch; c.inChannels = ic; c.outChannels = oc; c.inSize = hw
        c.kernel = [3, 3]; c.stride = [1, 1]; c.dilation = [1, 1]; c.padBegin = [pad, pad]; c.padEnd = [pad, pad]
        return c
    }

    /// The Winograd layout `c` takes on the best SIMD path (0 when that path has none, e.g. on NEON).
    func winogradLayout(_ c: ConvCase) -> Int32 {
        let d = c.desc(transpose: false)
        return withUnsafePointer(to: d) { cedge_conv_f32_winograd($0) }
    }

    func testWinogradTakesBothLayouts() throws {
        let best = String(cString: cedge_kernel_isa())
        guard best == "avx512" || best == "avx2-fma" else { throw XCTSkip("no Winograd on \(best)") }
        XCTAssertEqual(winogradLayout(conv3x3(32, 32, [28, 28])), 1, "28x28: tiles in lanes")
        XCTAssertEqual(winogradLayout(conv3x3(64, 64, [14, 14], batch: 32)), 1, "14x14 batch 32")
        XCTAssertEqual(winogradLayout(conv3x3(128, 128, [7, 7])), 2, "7x7 batch 1: channels in lanes")
        XCTAssertEqual(winogradLayout(conv3x3(32, 32, [14, 14])), 2, "14x14 batch 1: channels in lanes, two tile panels")
        XCTAssertEqual(winogradLayout(conv3x3(4, 16, [28, 28])), 0, "too few input channels")
        var strided = conv3x3(32, 32, [28, 28])
        strided.stride = [2, 2]
        XCTAssertEqual(winogradLayout(strided), 0, "stride 2")
    }

    func testWinogradNamedCases() {
        var cases: [ConvCase] = [
            conv3x3(16, 16, [28, 28]),                 // tiles in lanes, 49 tiles: two blocks
            conv3x3(32, 32, [14, 14], batch: 2),       // 32 tiles, one full block
            conv3x3(24, 40, [13, 11], batch: 3),       // partial tiles at the bottom and right edges
            conv3x3(9, 17, [5, 6], batch: 2),          // K not a multiple of MR, odd C
            conv3x3(20, 8, [9, 10], pad: 0),           // no padding
            conv3x3(16, 16, [4, 4], pad: 2, batch: 5), // pad 2 (output larger than the input)
            conv3x3(64, 64, [7, 7]),                   // channels in lanes: 4 tiles
            conv3x3(128, 128, [7, 7], batch: 2),       // 8 tiles
            conv3x3(20, 40, [7, 7]),                   // K past one 32-channel panel, not a multiple
            conv3x3(12, 70, [5, 6]),
            conv3x3(8, 9, [3, 5], batch: 2),
            conv3x3(9, 100, [2, 2], pad: 2),
            conv3x3(33, 33, [8, 8]),
            // Channels in lanes with two tile panels, each its own task (14x14 at batch 1; a partial second
            // panel, K past one panel and not a multiple of it).
            conv3x3(32, 32, [14, 14]),
            conv3x3(24, 40, [11, 13]),
            conv3x3(9, 70, [9, 10]),
            // Batch 1, several blocks starting inside a tile row (each pads its own rows on 2 threads).
            conv3x3(16, 8, [40, 44]),
            conv3x3(12, 10, [30, 27], pad: 2),
        ]
        cases[17].padEnd = [0, 1]
        cases[0].clampMin = 0
        cases[3].clampMin = -0.5; cases[3].clampMax = 0.75
        cases[6].clampMin = 0
        cases[8].bias = false
        for (i, c) in cases.enumerated() { runConv(c, transpose: false, seed: UInt64(500 + i)) }
    }

    func testWinogradRandomShapes() {
        var rng = KernelRNG(seed: 0x5EED_0030)
        var taken = [0, 0, 0]
        for i in 0..<40 {
            var c = conv3x3(rng.int(8, 40), rng.int(1, 70), [rng.int(1, 20), rng.int(1, 20)], pad: rng.int(0, 2),
                            batch: rng.int(1, 3))
            c.padEnd = [rng.int(0, 2), rng.int(0, 2)]
            c.inSize = zip(c.inSize, zip(c.padBegin, c.padEnd)).map { max($0, 3 - $1.0 - $1.1) }
            switch rng.int(0, 2) {
            case 0: break
            case 1: c.clampMin = 0
            default: c.clampMin = -0.5; c.clampMax = 0.75
            }
            c.bias = rng.bool()
            taken[Int(winogradLayout(c))] += 1
            runConv(c, transpose: false, seed: UInt64(600 + i))
        }
        let best = String(cString: cedge_kernel_isa())
        if best == "avx512" || best == "avx2-fma" {
            XCTAssertGreaterThan(taken[1], 5, "random cases taking Winograd with tiles in lanes")
            XCTAssertGreaterThan(taken[2], 5, "random cases taking Winograd with channels in lanes")
        }
    }

    /// The folded-norm epilogue (per-channel scale of both signs, shift) in both layouts, with the weights
    /// transformed per call and packed once.
    func testWinogradAffineEpilogue() {
        var rng = KernelRNG(seed: 0xAFF2)
        var cases = [conv3x3(16, 24, [12, 12], batch: 2), conv3x3(64, 40, [7, 7]), conv3x3(32, 32, [28, 28]),
                     conv3x3(32, 48, [14, 14])]
        for i in cases.indices { cases[i].bias = false; cases[i].clampMin = 0 }
        for (i, c) in cases.enumerated() {
            let n = c.outChannels
            let s = (0..<n).map { _ in (rng.bool() ? -1 : 1) * (0.25 + 2 * abs(rng.float())) }
            let b = rng.floats(n)
            runAffineConv(c, scale: s, shift: b, seed: UInt64(700 + i))
            runAffineConv(c, scale: s, shift: b, seed: UInt64(700 + i), prepack: true)
            runAffineConv(c, scale: nil, shift: b, seed: UInt64(710 + i), prepack: true)
            runAffineConv(c, scale: s, shift: nil, seed: UInt64(720 + i), prepack: true)
        }
        // A GEMM pack made on the generic path is not read as transformed weights.
        runAffineConv(cases[0], scale: nil, shift: nil, seed: 730, prepack: true, packOn: "generic")
    }
}
