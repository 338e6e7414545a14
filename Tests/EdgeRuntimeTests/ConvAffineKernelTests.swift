// cedge_conv_f32_affine's epilogue y = clamp(sum * scale[oc] + shift[oc]) on every conv path (portable,
// shifted windows, im2col, 1x1, single output cell, depthwise), with the weights packed per call and packed
// once beforehand, against the naive conv plus the epilogue in Double.
import CEdgeShim
import XCTest

extension KernelTests {
    /// Random input and weights for `c`, drawn from rng in that order.
    func convOperands(_ c: ConvCase, _ rng: inout KernelRNG) -> (x: [Float], w: [Float]) {
        let g = kGeom(c.desc(transpose: false))
        let x = rng.floats(c.batch * c.inChannels * g.inPlane)
        return (x, rng.floats(c.outChannels * (c.inChannels / c.groups) * g.kernelVolume))
    }

    /// The affine epilogue's reference: the naive conv's sums times scale[oc] plus shift[oc] (nil: 1 and 0),
    /// then c's clamp, in Double and rounded once.
    func affineReference(_ c: ConvCase, x: [Float], w: [Float], scale: [Float]?, shift: [Float]?) -> [Float] {
        let d = c.desc(transpose: false)
        var plain = d
        plain.clamp_min = -.infinity
        plain.clamp_max = .infinity
        let plane = kGeom(d).outPlane
        let sums = refConv(plain, x: x, w: w, bias: nil)
        return sums.indices.map { i in
            let oc = (i / plane) % c.outChannels
            let v = Double(sums[i]) * Double(scale?[oc] ?? 1) + Double(shift?[oc] ?? 0)
            return Float(min(max(v, Double(d.clamp_min)), Double(d.clamp_max)))
        }
    }

    /// scale/shift nil: passed as NULL (meaning 1 and 0). `packOn`: pack the weights once on that code path
    /// (nil: the current one) before calling, instead of letting the conv pack them.
    func runAffineConv(_ c: ConvCase, scale: [Float]?, shift: [Float]?, seed: UInt64, prepack: Bool = false,
                       packOn: String? = nil, line: UInt = #line) {
        let d = c.desc(transpose: false)
        let g = kGeom(d)
        var rng = KernelRNG(seed: seed)
        let (x, w) = convOperands(c, &rng)
        let want = affineReference(c, x: x, w: w, scale: scale, shift: shift)
        let count = c.batch * c.outChannels * g.outPlane
        let label = "affine conv " + c.label + " scale \(scale != nil) shift \(shift != nil) prepack \(prepack)"
        checkAllPaths(label, reference: want, line: line) {
            var y = [Float](repeating: .nan, count: count)
            withUnsafePointer(to: d) { dp in
                var packed: [UInt8] = []
                if prepack {
                    let current = String(cString: cedge_kernel_isa())
                    if let packOn { _ = cedge_kernel_select(packOn) }
                    // One spare 64-byte line so the pack can start 64-byte aligned inside the array.
                    packed = [UInt8](repeating: 0, count: cedge_conv_f32_packed_bytes(dp) + 64)
                    if packed.count > 64 {
                        packed.withUnsafeMutableBytes { raw in
                            let at = raw.baseAddress!.alignedUp(toMultipleOf: 64)
                            cedge_conv_f32_pack(dp, w, at)
                        }
                    }
                    _ = cedge_kernel_select(current)
                }
                (scale ?? []).withUnsafeBufferPointer { sp in
                    (shift ?? []).withUnsafeBufferPointer { bp in
                        packed.withUnsafeBytes { raw in
                            let at = packed.count > 64 ? UnsafeRawPointer(raw.baseAddress!.alignedUp(toMultipleOf: 64)) : nil
                            cedge_conv_f32_affine_packed(dp, x, w, at, scale == nil ? nil : sp.baseAddress,
                                                         shift == nil ? nil : bp.baseAddress, &y)
                        }
                    }
                }
            }
            return y
        }
    }

    func testConvAffineEpilogueOnEveryPath() {
        var rng = KernelRNG(seed: 0xAFF1)
        // Scales of both signs: a negative one flips the sum, so the clamp must come after the scale.
        func scales(_ n: Int) -> [Float] { (0..<n).map { _ in (rng.bool() ? -1 : 1) * (0.25 + 2 * abs(rng.float())) } }
        func shifts(_ n: Int) -> [Float] { rng.floats(n) }
        let cases: [ConvCase] = [
            ConvCase.conv2d(16, 16, [12, 12], k: 3, p: 1),                    // shifted windows, stride 1
            ConvCase.conv2d(16, 32, [14, 14], k: 3, s: 2, p: 1, batch: 2),    // phase planes (stride 2)
            ConvCase.conv2d(32, 20, [7, 7], k: 3, p: 1),                      // K = 288: two K blocks on some paths
            ConvCase.conv2d(3, 150, [6, 6], k: 3, p: 1, batch: 3),            // M over the M block, shared A packing
            ConvCase.conv2d(4, 5, [6, 6], k: 5, relu: false),                 // im2col
            ConvCase.conv2d(24, 40, [9, 7], k: 1, batch: 2),                  // 1x1 direct GEMM
            ConvCase.conv2d(16, 32, [14, 14], k: 1, s: 2),                    // 1x1 stride-2 shortcut
            ConvCase.conv2d(10, 7, [3, 3], k: 3),                             // single output cell (dot products)
            ConvCase.conv2d(32, 32, [20, 20], k: 3, p: 1, groups: 32),        // depthwise, flat rows
            ConvCase.conv2d(24, 24, [21, 19], k: 3, s: 2, p: 1, groups: 24),  // depthwise stride 2
            ConvCase.conv2d(12, 12, [11, 11], k: 3, s: 3, p: 1, groups: 12),  // depthwise stride 3 (generic row)
            ConvCase.conv2d(8, 12, [9, 9], k: 3, p: 1, groups: 4, relu: false), // grouped
            ConvCase.conv2d(1, 32, [28, 28], k: 3, p: 1, batch: 2),           // one input channel: tap loops per output
            ConvCase.conv2d(4, 12, [10, 9], k: 3, s: 2, p: 1, groups: 4),     // channel multiplier 3, stride 2
            // Batch 1 on 2 threads: each task copies the phase rows it reads (shifted_bands).
            ConvCase.conv2d(16, 32, [14, 14], k: 3, s: 2, p: 1),              // output-channel parts, extracted
            ConvCase.conv2d(32, 64, [13, 14], k: 3, s: 2, p: 1),              // 7x7 out, two column tiles
            ConvCase.conv2d(16, 8, [15, 13], k: 3, s: 2, p: 1),               // one channel panel: row bands
            ConvCase.conv2d(16, 8, [16, 20], k: 1, s: 2),                     // row bands written in place
        ]
        for (i, c) in cases.enumerated() {
            let oc = c.outChannels
            let s = scales(oc), b = shifts(oc)
            runAffineConv(c, scale: s, shift: b, seed: UInt64(100 + i))
            runAffineConv(c, scale: s, shift: b, seed: UInt64(100 + i), prepack: true)
        }
        // A pack made on another code path (different panel layout) is ignored, not misread.
        runAffineConv(cases[0], scale: scales(16), shift: shifts(16), seed: 300, prepack: true, packOn: "generic")
        runAffineConv(cases[5], scale: scales(40), shift: shifts(40), seed: 301, prepack: true,
                      packOn: KernelTests.paths.first!)
        // Either pointer may be absent; and a bounded clamp (ReLU6-style).
        var c6 = cases[0]
        c6.clampMin = 0
        c6.clampMax = 0.5
        runAffineConv(c6, scale: scales(16), shift: nil, seed: 200)
        runAffineConv(cases[5], scale: nil, shift: shifts(40), seed: 201)
        runAffineConv(cases[8], scale: scales(32), shift: nil, seed: 202)
    }
}

extension KernelTests.ConvCase {
    /// A 2-d case without bias, ReLU unless told otherwise (the models' conv layers).
    static func conv2d(_ ic: Int, _ oc: Int, _ hw: [Int], k: Int, s: Int = 1, p: Int = 0, groups: Int = 1,
                       batch: Int = 1, relu: Bool = true) -> Self {
        var c = Self()
        c.batch = batch; c.inChannels = ic; c.outChannels = oc; c.groups = groups; c.inSize = hw
        c.kernel = [k, k]; c.stride = [s, s]; c.dilation = [1, 1]; c.padBegin = [p, p]; c.padEnd = [p, p]
        c.bias = false
        if relu { c.clampMin = 0 }
        return c
    }
}
