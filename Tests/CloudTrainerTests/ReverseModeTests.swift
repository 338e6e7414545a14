// The reverse pass of TrainableModel, operator by operator, against central finite differences on small
// random graphs. Each graph puts a per-element LayerNormalization (or a BatchNormalization) in front of
// the operator under test, so the norm's bias gradient is exactly that operator's input gradient.
import XCTest
@testable import CloudTrainer
@testable import EdgeRuntime

final class ReverseModeTests: XCTestCase {
    /// x -> elementwise LN -> op(...) -> output.
    private func singleOp(_ shape: [Int], seed: UInt64 = 1,
                          _ op: (inout GraphBuilder, String) -> String) -> Graph {
        var b = GraphBuilder(seed: seed)
        let n = b.elementwiseNorm("x", Array(shape.dropFirst()))
        let y = op(&b, n)
        return b.graph(input: "x", shape: shape, output: y)
    }

    func testConvWithStrideTwoAsymmetricPadsAndGroups() {
        let g = singleOp([2, 4, 7, 6]) { b, x in
            let w = b.random("w", [6, 2, 3, 3]), bias = b.random("cb", [6])
            return b.node("Conv", [x, w, bias], ["group": .int(2), "strides": .ints([2, 2]), "pads": .ints([1, 0, 2, 1])])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testConvWithDilationAndDepthwiseGroups() {
        let g = singleOp([1, 3, 6, 6]) { b, x in
            let w = b.random("w", [3, 1, 2, 2])
            return b.node("Conv", [x, w], ["group": .int(3), "dilations": .ints([2, 1]), "auto_pad": .string("SAME_UPPER")])
        }
        assertGradientsMatch(g, batch: 1)
    }

    func testConvOneAndThreeSpatialDimensions() {
        let conv1d = singleOp([2, 2, 7]) { b, x in
            b.node("Conv", [x, b.random("w", [3, 2, 3])], ["strides": .ints([2]), "pads": .ints([1, 1])])
        }
        assertGradientsMatch(conv1d, batch: 2)
        let conv3d = singleOp([1, 2, 3, 4, 4]) { b, x in
            b.node("Conv", [x, b.random("w", [2, 2, 2, 2, 2])], ["strides": .ints([1, 2, 2]), "pads": .ints([0, 1, 0, 1, 0, 1])])
        }
        assertGradientsMatch(conv3d, batch: 1)
    }

    func testConvWithPadsBeyondTheKernelSpan() {
        // pad 2 > dilation*(K-1) = 1: the backward falls back to the transposed-convolution kernel.
        let g = singleOp([2, 2, 4, 5]) { b, x in
            b.node("Conv", [x, b.random("w", [3, 2, 2, 2])], ["strides": .ints([2, 1]), "pads": .ints([2, 0, 1, 2])])
        }
        assertGradientsMatch(g, batch: 2)
    }

    /// Conv -> BN -> Relu -> Conv(stride 2) -> BN -> GlobalAveragePool -> Flatten -> Gemm: the edge model's
    /// shape, in each BN form; gradients flow through two BNs' batch statistics.
    private func convBNStack(seed: UInt64) -> Graph {
        var b = GraphBuilder(seed: seed)
        let c1 = b.node("Conv", ["x", b.random("w1", [3, 2, 3, 3])], ["pads": .ints([1, 1, 1, 1])])
        let r = b.node("Relu", [b.batchNorm(c1, channels: 3)])
        let c2 = b.node("Conv", [r, b.random("w2", [4, 3, 3, 3])], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
        let bn2 = b.batchNorm(c2, channels: 4)
        let sum = b.node("Add", [bn2, b.node("Conv", [r, b.random("ws", [4, 3, 1, 1])], ["strides": .ints([2, 2])])])
        let f = b.node("Flatten", [b.node("GlobalAveragePool", [sum])])
        let y = b.node("Gemm", [f, b.random("fc", [5, 4]), b.random("fcb", [5])], ["transB": .int(1)])
        return b.graph(input: "x", shape: [3, 2, 5, 5], output: y)
    }

    func testBatchNormRenormalizationForm() { assertGradientsMatch(convBNStack(seed: 6), batch: 3, bnMode: .batchRenormalization) }
    func testBatchNormBatchStatisticsForm() { assertGradientsMatch(convBNStack(seed: 6), batch: 3, bnMode: .batchStatistics) }
    func testBatchNormInferenceForm() { assertGradientsMatch(convBNStack(seed: 6), batch: 3, bnMode: .inference) }

    func testInstanceNormalization() {
        let g = singleOp([2, 3, 4, 4]) { b, x in
            b.node("InstanceNormalization", [x, b.random("is", [3], 0.5, 1.5), b.random("ib", [3])], ["epsilon": .float(1e-5)])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testLayerNormalizationOverLastAxis() {
        let g = singleOp([2, 3, 5]) { b, x in
            b.node("LayerNormalization", [x, b.random("ls", [5], 0.5, 1.5), b.random("lb", [5])], ["axis": .int(-1)])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testReluAndClip() {
        let relu = singleOp([2, 3, 4], seed: 2) { b, x in b.node("Relu", [x]) }
        assertGradientsMatch(relu, batch: 2)
        // Opset 11+ Clip: bounds as constant inputs; opset 6 Clip: bounds as attributes.
        let clip = singleOp([2, 3, 4], seed: 2) { b, x in
            b.node("Clip", [x, b.initializer("lo", [], [-0.4]), b.initializer("hi", [], [0.6])])
        }
        assertGradientsMatch(clip, batch: 2)
        var old = GraphBuilder(seed: 2)
        old.opset = 6
        let y = old.node("Clip", [old.elementwiseNorm("x", [3, 4])], ["min": .float(-0.3), "max": .float(0.5)])
        assertGradientsMatch(old.graph(input: "x", shape: [2, 3, 4], output: y), batch: 2)
    }

    func testAddAndMulWithBroadcasting() {
        // a [2,3,4]; b = a @ W [2,3,1] broadcast back along the last axis; constants broadcast too.
        let g = singleOp([2, 3, 4]) { b, x in
            let small = b.node("MatMul", [x, b.random("mw", [4, 1])])
            let sum = b.node("Add", [x, small])
            let scaled = b.node("Mul", [sum, b.random("k", [3, 1], 0.5, 2)])
            let prod = b.node("Mul", [scaled, small])
            return b.node("Add", [prod, b.node("Mul", [x, x])])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testSubtraction() {
        let g = singleOp([2, 4]) { b, x in
            b.node("Sub", [b.random("c", [4]), b.node("Mul", [x, b.node("Sub", [x, b.random("d", [1])])])])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testMaxPool() {
        let g = singleOp([2, 2, 6, 6], seed: 4) { b, x in
            b.node("MaxPool", [x], ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
        }
        assertGradientsMatch(g, batch: 2)
    }

    func testAveragePoolCeilModeWithAndWithoutPadCounting() {
        for include in [0, 1] {
            let g = singleOp([2, 2, 5, 6]) { b, x in
                b.node("AveragePool", [x], ["kernel_shape": .ints([3, 2]), "strides": .ints([2, 2]),
                                            "pads": .ints([1, 0, 0, 1]), "ceil_mode": .int(1),
                                            "count_include_pad": .int(include)])
            }
            assertGradientsMatch(g, batch: 2)
        }
    }

    func testGlobalAveragePool() {
        let g = singleOp([2, 3, 3, 4]) { b, x in b.node("GlobalAveragePool", [x]) }
        assertGradientsMatch(g, batch: 2)
    }

    func testGemmTransposesAndSoftmax() {
        for (ta, tb) in [(0, 1), (1, 0), (0, 0), (1, 1)] {
            var b = GraphBuilder(seed: 5)
            let x = b.elementwiseNorm("x", [6])
            // For transA, a first Gemm (itself transposing both operands) makes a [3, 3] activation that the
            // Gemm under test reads as [K, M].
            let a = ta == 1 ? b.node("Gemm", [b.random("eye", [6, 3]), x], ["transA": .int(1), "transB": .int(1)]) : x
            let w = tb == 1 ? b.random("w", [4, ta == 1 ? 3 : 6]) : b.random("w", [ta == 1 ? 3 : 6, 4])
            let gemm = b.node("Gemm", [a, w, b.random("c", [4])],
                              ["transA": .int(ta), "transB": .int(tb), "alpha": .float(0.7), "beta": .float(1.3)])
            let y = b.node("Softmax", [gemm], ["axis": .int(1)])
            assertGradientsMatch(b.graph(input: "x", shape: [3, 6], output: y), batch: 3)
        }
    }

    func testBatchedMatMulAndLogSoftmax() {
        let g = singleOp([2, 3, 5]) { b, x in
            let m = b.node("MatMul", [x, b.random("w", [5, 4])])
            return b.node("LogSoftmax", [m], ["axis": .int(1)])
        }
        assertGradientsMatch(g, batch: 2)
        // A weight-side activation broadcast over A's batch: [2,3,5] x [1,5,2], both carrying gradients.
        let both = singleOp([2, 3, 5]) { b, x in
            let flat = b.node("Reshape", [x, b.int64Initializer("s1", [1, 30])])
            let small = b.node("Reshape", [b.node("MatMul", [flat, b.random("p", [30, 10], -0.3, 0.3)]),
                                           b.int64Initializer("s2", [1, 5, 2])])
            return b.node("MatMul", [x, b.node("Mul", [small, b.random("k", [1, 5, 2])])])
        }
        assertGradientsMatch(both, batch: 2)
    }

    func testFlattenReshapeAndLegacySoftmax() {
        var b = GraphBuilder(seed: 6)
        b.opset = 11
        let n = b.elementwiseNorm("x", [3, 2, 2])
        let f = b.node("Flatten", [n], ["axis": .int(1)])
        let r = b.node("Reshape", [f, b.int64Initializer("shape", [0, -1, 4])])
        // Opset 11 Softmax coerces to 2-D at axis 1: one softmax over the last 12 values of each image.
        let y = b.node("Softmax", [r], ["axis": .int(1)])
        assertGradientsMatch(b.graph(input: "x", shape: [2, 3, 2, 2], output: y), batch: 2)
    }

    func testNormalizationChainsDifferentiateEachNorm() {
        // LN (per element) -> InstanceNorm -> LayerNorm(last axis) -> BN: every norm's input gradient is
        // checked through the norm before it.
        let g = singleOp([2, 2, 3, 3]) { b, x in
            let i = b.node("InstanceNormalization", [x, b.random("is", [2], 0.5, 1.5), b.random("ib", [2])])
            let l = b.node("LayerNormalization", [i, b.random("ls", [3], 0.5, 1.5), b.random("lb", [3])], ["axis": .int(-1)])
            return b.batchNorm(l, channels: 2)
        }
        for mode in [BNMode.batchRenormalization, .batchStatistics, .inference] { assertGradientsMatch(g, batch: 2, bnMode: mode) }
    }
}
