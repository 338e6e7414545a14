// Each CEMA loss against PyTorch (models/make_grad_golden.py: F.kl_div, F.cross_entropy, softmax entropy
// with EATA weights) on small random logits: values and gradients with respect to the student logits.
import XCTest
@testable import CloudTrainer

final class LossesTests: XCTestCase {
    private var golden: GradGolden!
    private var student: [Float] = [], teacher: [Float] = []
    private let config = CEMAConfig()

    override func setUpWithError() throws {
        golden = try GradGolden()
        student = golden.array("losses.student")
        teacher = golden.array("losses.teacher")
    }

    private func check(_ r: LossResult, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = golden.scalar("losses.\(name)")
        XCTAssertEqual(Double(r.value), Double(expected), accuracy: 1e-5 * max(1, abs(Double(expected))), name, file: file, line: line)
        assertClose(r.gradient, golden.array("losses.\(name).grad"), tolerance: 1e-4, "\(name) gradient", file: file, line: line)
    }

    func testEntropy() throws {
        check(try Losses.entropy(logits: student, classes: config.classCount), "entropy")
    }

    func testEATAWeightedEntropy() throws {
        check(try Losses.weightedEntropy(logits: student, classes: config.classCount, margin: config.entropyMargin),
              "weighted_entropy")
        // The foundation model's loss is this one with E_max0 from the configuration.
        check(try Losses.foundationEntropy(logits: student, config: config), "weighted_entropy")
    }

    func testTeacherEntropyWeights() throws {
        let w = Losses.entropyWeights(entropies: try Losses.entropies(logits: teacher, classes: 10),
                                      margin: config.entropyMargin)
        assertClose(w, golden.array("losses.teacher_weights"), tolerance: 1e-5, "teacher weights")
    }

    func testKLTeacherToStudent() throws {
        let w = golden.array("losses.teacher_weights")
        check(try Losses.kl(student: student, teacher: teacher, classes: 10, weights: w,
                            temperature: config.temperature), "kl")
    }

    func testHardPseudoLabelCrossEntropy() throws {
        let w = golden.array("losses.teacher_weights")
        check(try Losses.pseudoLabelCrossEntropy(student: student, teacher: teacher, classes: 10, weights: w), "ce")
    }

    func testDistillationCombinesTheTermsWithConfiguredCoefficients() throws {
        let d = try Losses.distillation(student: student, teacher: teacher, config: config)
        check(LossResult(value: d.total, gradient: d.gradient), "distillation")
        XCTAssertEqual(d.entropy, golden.scalar("losses.weighted_entropy"), accuracy: 1e-5)
        XCTAssertEqual(d.kl, golden.scalar("losses.kl"), accuracy: 1e-5)
        XCTAssertEqual(d.pseudoLabel, golden.scalar("losses.ce"), accuracy: 1e-5)
        // The coefficients come from the configuration: alpha = 0 removes the entropy term exactly.
        var noEntropy = config
        noEntropy.entropyCoefficient = 0
        let e = try Losses.distillation(student: student, teacher: teacher, config: noEntropy)
        XCTAssertEqual(Double(e.total), Double(d.total) - 3 * Double(d.entropy), accuracy: 1e-4)
    }

    func testCEMADefaults() {
        XCTAssertEqual(config.entropyMargin, 0.4 * Float(log(10.0)), accuracy: 1e-6)
        XCTAssertEqual([config.entropyCoefficient, config.klCoefficient, config.pseudoLabelCoefficient, config.temperature],
                       [3, 3, 1, 1])
        XCTAssertEqual(config.momentum, 0.9)
        XCTAssertEqual(config.edgeLearningRate, 2.5e-3)
        XCTAssertEqual(config.foundationLearningRate, 2.5e-4)
        XCTAssertEqual(config.statisticsMomentum, 0.1)
    }

    func testMismatchedLengthsAreRefused() {
        XCTAssertThrowsError(try Losses.entropy(logits: [1, 2, 3], classes: 2))
        XCTAssertThrowsError(try Losses.kl(student: student, teacher: Array(teacher.dropLast(10)), classes: 10,
                                           weights: [1, 1, 1, 1], temperature: 1))
    }
}
