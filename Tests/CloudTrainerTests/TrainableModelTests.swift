// TrainableModel on the shipped edge model against PyTorch (models/make_grad_golden.py): two CEMA
// distillation steps with TBR batch normalization, checking logits, loss terms, every BN gamma/beta gradient,
// the running statistics and the SGD-updated parameters; plus the BN forms' forward semantics on a tiny graph.
import XCTest
@testable import CloudTrainer
@testable import EdgeRuntime

final class TrainableModelTests: XCTestCase {
    /// The golden bound for gradients (issue 4): max relative error <= 1e-3.
    private let gradientTolerance = 1e-3

    func testCEMADistillationStepsMatchPyTorch() throws {
        let golden = try GradGolden()
        let graph = try Model(path: repositoryRoot.appendingPathComponent("models/edge.onnx").path).graph
        let model = try TrainableModel(graph: graph, batch: 16, bnMode: .batchRenormalization)
        let batchA = try readFloats(GradGolden.directory.appendingPathComponent("edge_batch_input.f32"))
        let batchB = batchA.map { $0 * 0.8 + 0.1 }
        var sgd = SGD.edge()
        let layers = NormParameters.layers(of: graph)
        XCTAssertEqual(layers.map { String($0.scale.dropLast(".weight".count)) }, golden.bnLayers)
        var worstGradient = 0.0, worstPlain = 0.0, worstAbsolute = 0.0
        for (step, x) in [(1, batchA), (2, batchB)] {
            let logits = try model.forward(x)
            assertClose(logits, golden.array("kd\(step).student_logits"), tolerance: 1e-4, "step \(step) logits")
            let loss = try Losses.distillation(student: logits, teacher: golden.array("kd\(step).teacher_logits"))
            for (term, value) in [("loss", loss.total), ("entropy", loss.entropy), ("kl", loss.kl), ("ce", loss.pseudoLabel)] {
                let expected = golden.scalar("kd\(step).\(term)")
                XCTAssertEqual(Double(value), Double(expected), accuracy: 1e-4 * abs(Double(expected)), "step \(step) \(term)")
            }
            try model.backward(dLogits: loss.gradient)
            for layer in layers {
                for name in [layer.scale, layer.bias!] {
                    let got = Array(try model.parameter(named: name).gradient)
                    let expected = golden.array("kd\(step).grad.\(name)")
                    let e = relativeError(got, expected)
                    worstGradient = max(worstGradient, e)
                    let plain = plainErrors(got, expected)
                    worstPlain = max(worstPlain, plain.relative)
                    worstAbsolute = max(worstAbsolute, plain.absolute)
                    XCTAssertLessThanOrEqual(e, gradientTolerance, "step \(step) d/d\(name)")
                }
            }
            sgd.step(model)
        }
        print("PyTorch golden: max relative error of the edge BN gradients \(worstGradient) (elementwise over entries >= 1e-3 of the tensor's max: \(worstPlain); max abs difference \(worstAbsolute))")
        for layer in layers {
            let prefix = String(layer.scale.dropLast(".weight".count))
            assertClose(graph.initializers[layer.mean!]!.floats(), golden.array("after.\(prefix).running_mean"),
                        tolerance: 1e-4, "\(prefix) running mean")
            assertClose(graph.initializers[layer.variance!]!.floats(), golden.array("after.\(prefix).running_var"),
                        tolerance: 1e-4, "\(prefix) running var")
            assertClose(graph.initializers[layer.scale]!.floats(), golden.array("after.\(prefix).weight"),
                        tolerance: 1e-5, "\(prefix) gamma after SGD")
            assertClose(graph.initializers[layer.bias!]!.floats(), golden.array("after.\(prefix).bias"),
                        tolerance: 1e-5, "\(prefix) beta after SGD")
        }
    }

    /// The foundation model in batch-statistics form: the teacher logits of both distillation batches, and
    /// the gradients of CEMA's foundation step (EATA-weighted entropy) for every BN gamma and beta.
    func testFoundationBatchStatisticsFormMatchesPyTorch() throws {
        let golden = try GradGolden()
        XCTAssertEqual(golden.teacherSource, "foundation.onnx, batch-statistics BN")
        let graph = try Model(path: repositoryRoot.appendingPathComponent("models/foundation.onnx").path).graph
        let teacher = try TrainableModel(graph: graph, batch: 16, bnMode: .batchStatistics)
        let batchA = try readFloats(GradGolden.directory.appendingPathComponent("edge_batch_input.f32"))
        assertClose(try teacher.forward(batchA.map { $0 * 0.8 + 0.1 }), golden.array("kd2.teacher_logits"),
                    tolerance: 1e-4, "teacher logits, batch B")
        let logits = try teacher.forward(batchA)
        assertClose(logits, golden.array("kd1.teacher_logits"), tolerance: 1e-4, "teacher logits, batch A")
        let loss = try Losses.foundationEntropy(logits: logits)
        XCTAssertEqual(Double(loss.value), Double(golden.scalar("foundation.loss")), accuracy: 1e-4 * Double(loss.value))
        try teacher.backward(dLogits: loss.gradient)
        let layers = NormParameters.layers(of: graph)
        XCTAssertEqual(layers.map { String($0.scale.dropLast(".weight".count)) }, golden.foundationBNLayers)
        var worst = 0.0
        for layer in layers {
            for name in [layer.scale, layer.bias!] {
                let e = relativeError(Array(try teacher.parameter(named: name).gradient), golden.array("foundation.grad.\(name)"))
                worst = max(worst, e)
                XCTAssertLessThanOrEqual(e, gradientTolerance, "d/d\(name)")
            }
        }
        print("PyTorch golden: max relative error of the foundation BN gradients \(worst)")
    }

    // MARK: - BN forms on x -> BN -> y, against statistics computed here.

    private let shape = [3, 2, 2, 2]
    private func bnGraph() -> Graph {
        var b = GraphBuilder(seed: 11)
        let y = b.batchNorm("x", channels: 2)
        return b.graph(input: "x", shape: shape, output: y)
    }
    private var input: [Float] { SeededRandom(seed: 12).floatsCopy(24) }

    /// Per channel: mean, unbiased and biased variance of x (NCHW, N = 3, 4 cells).
    private func statistics(_ x: [Float]) -> [(mean: Double, unbiased: Double, biased: Double)] {
        (0..<2).map { c in
            var v: [Double] = []
            for n in 0..<3 { for j in 0..<4 { v.append(Double(x[(n * 2 + c) * 4 + j])) } }
            let m = v.reduce(0, +) / 12
            let ss = v.map { ($0 - m) * ($0 - m) }.reduce(0, +)
            return (m, ss / 11, ss / 12)
        }
    }

    private func normalized(_ x: [Float], _ graph: Graph, mean: [Double], variance: [Double]) -> [Float] {
        let g = graph.initializers["bn_scale_1"]!.floats(), b = graph.initializers["bn_bias_2"]!.floats()
        return x.indices.map { i in
            let c = (i / 4) % 2
            return Float((Double(x[i]) - mean[c]) / (variance[c] + 1e-5).squareRoot() * Double(g[c]) + Double(b[c]))
        }
    }

    func testRenormalizedFormEqualsNormalizationByRunningStatisticsAndUpdatesThem() throws {
        let graph = bnGraph()
        let runMean = graph.initializers["bn_mean_3"]!.floats().map { Double($0) }
        let runVar = graph.initializers["bn_var_4"]!.floats().map { Double($0) }
        let model = try TrainableModel(graph: graph, batch: 3, bnMode: .batchRenormalization, runningStatistics: .fromGraph)
        let y = try model.forward(input)
        assertClose(y, normalized(input, graph, mean: runMean, variance: runVar), tolerance: 1e-5, "TBR value")
        let s = statistics(input)
        for c in 0..<2 {
            XCTAssertEqual(Double(graph.initializers["bn_mean_3"]!.floats()[c]), runMean[c] + 0.1 * (s[c].mean - runMean[c]), accuracy: 1e-6)
            XCTAssertEqual(Double(graph.initializers["bn_var_4"]!.floats()[c]), runVar[c] + 0.1 * (s[c].unbiased - runVar[c]), accuracy: 1e-6)
        }
        // Without the update flag the statistics stay put.
        let before = graph.initializers["bn_mean_3"]!.floats()
        _ = try model.forward(input, updatingRunningStatistics: false)
        XCTAssertEqual(graph.initializers["bn_mean_3"]!.floats(), before)
    }

    func testRenormalizedFormInitialisesStatisticsFromTheFirstBatch() throws {
        let graph = bnGraph()
        let model = try TrainableModel(graph: graph, batch: 3, bnMode: .batchRenormalization)
        let s = statistics(input)
        let y = try model.forward(input)
        assertClose(y, normalized(input, graph, mean: s.map(\.mean), variance: s.map(\.unbiased)), tolerance: 1e-5, "first batch")
        assertClose(graph.initializers["bn_mean_3"]!.floats(), s.map { Float($0.mean) }, tolerance: 1e-6, "mean")
        assertClose(graph.initializers["bn_var_4"]!.floats(), s.map { Float($0.unbiased) }, tolerance: 1e-6, "variance")
        // After reset, the next batch initialises them again.
        let other = input.map { $0 * 2 + 1 }
        model.resetRunningStatistics()
        _ = try model.forward(other)
        assertClose(graph.initializers["bn_mean_3"]!.floats(), statistics(other).map { Float($0.mean) }, tolerance: 1e-6, "reset")
    }

    func testBatchStatisticsFormUsesBiasedVarianceAndLeavesRunningStatistics() throws {
        let graph = bnGraph()
        let before = graph.initializers["bn_var_4"]!.floats()
        let model = try TrainableModel(graph: graph, batch: 3, bnMode: .batchStatistics)
        let s = statistics(input)
        let y = try model.forward(input)
        assertClose(y, normalized(input, graph, mean: s.map(\.mean), variance: s.map(\.biased)), tolerance: 1e-5, "Tent form")
        XCTAssertEqual(graph.initializers["bn_var_4"]!.floats(), before)
    }

    func testInferenceFormMatchesTheEdgeRuntime() throws {
        let graph = bnGraph()
        let model = try TrainableModel(graph: graph, batch: 3, bnMode: .inference)
        let session = try Model(graph: graph).prepare(batch: 3)
        let expected = try session.run([Tensor(shape: shape, floats: input)])[0].floats()
        assertClose(try model.forward(input), expected, tolerance: 1e-5, "inference form")
    }

    func testUnsupportedOperatorsAndWeightGradientsAreRefused() throws {
        var b = GraphBuilder(seed: 1)
        let y = b.node("Tanh", [b.batchNorm("x", channels: 2)])
        XCTAssertThrowsError(try TrainableModel(graph: b.graph(input: "x", shape: shape, output: y), batch: 3,
                                                bnMode: .batchStatistics)) { error in
            guard case TrainerError.unsupportedOperator(op: "Tanh", _, _)? = error as? TrainerError else {
                return XCTFail("\(error)")
            }
        }
        // A conv whose weight depends on a trainable parameter would need a weight gradient.
        var w = GraphBuilder(seed: 3)
        let n = w.batchNorm("x", channels: 2)
        let weight = w.node("Reshape", [w.node("Flatten", [n]), w.int64Initializer("ws", [3, 2, 2, 2])])
        let conv = w.node("Conv", ["x", weight])
        XCTAssertThrowsError(try TrainableModel(graph: w.graph(input: "x", shape: shape, output: conv), batch: 3,
                                                bnMode: .batchStatistics)) { error in
            guard case TrainerError.gradientThroughConstantInput? = error as? TrainerError else { return XCTFail("\(error)") }
        }
        // Training forms need at least two values per statistic: [1, 2] has one per channel.
        var one = GraphBuilder(seed: 4)
        let y1 = one.batchNorm("x", channels: 2)
        XCTAssertThrowsError(try TrainableModel(graph: one.graph(input: "x", shape: [1, 2], output: y1), batch: 1,
                                                bnMode: .batchRenormalization)) { error in
            XCTAssertEqual(error as? TrainerError, .batchTooSmall(node: y1, valuesPerStatistic: 1))
        }
    }
}

extension SeededRandom {
    func floatsCopy(_ n: Int) -> [Float] {
        var r = self
        return r.floats(n)
    }
}

