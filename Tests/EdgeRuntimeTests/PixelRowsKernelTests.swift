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
