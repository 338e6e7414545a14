// SGD with momentum against torch.optim.SGD (three steps, models/make_grad_golden.py).
import XCTest
@testable import CloudTrainer

final class SGDTests: XCTestCase {
    func testThreeMomentumStepsMatchPyTorch() throws {
        let golden = try GradGolden()
        var values = golden.array("sgd.initial")
        let grads = golden.array("sgd.gradients"), after = golden.array("sgd.after")
        var sgd = SGD(learningRate: golden.scalar("sgd.lr"), momentum: golden.scalar("sgd.momentum"))
        let n = values.count
        for k in 0..<3 {
            let g = Array(grads[(k * n)..<((k + 1) * n)])
            try values.withUnsafeMutableBufferPointer { v in
                try g.withUnsafeBufferPointer { try sgd.step(name: "p", values: v, gradient: $0) }
            }
            assertClose(values, Array(after[(k * n)..<((k + 1) * n)]), tolerance: 1e-6, "after step \(k + 1)")
        }
    }

    func testMomentumIsKeptPerParameterAndResets() throws {
        var sgd = SGD(learningRate: 1, momentum: 0.5)
        var a: [Float] = [0], b: [Float] = [0]
        let g: [Float] = [1]
        for _ in 0..<2 {
            try a.withUnsafeMutableBufferPointer { v in try g.withUnsafeBufferPointer { try sgd.step(name: "a", values: v, gradient: $0) } }
        }
        try b.withUnsafeMutableBufferPointer { v in try g.withUnsafeBufferPointer { try sgd.step(name: "b", values: v, gradient: $0) } }
        XCTAssertEqual(a, [-2.5])  // buf 1, then 1.5
        XCTAssertEqual(b, [-1])    // a's buffer does not leak into b
        sgd.reset()
        try a.withUnsafeMutableBufferPointer { v in try g.withUnsafeBufferPointer { try sgd.step(name: "a", values: v, gradient: $0) } }
        XCTAssertEqual(a, [-3.5])
    }

    func testConfiguredOptimisers() {
        XCTAssertEqual(SGD.edge().learningRate, 2.5e-3)
        XCTAssertEqual(SGD.foundation().learningRate, 2.5e-4)
        XCTAssertEqual(SGD.edge().momentum, 0.9)
    }

    func testLengthMismatchIsRefused() {
        var sgd = SGD(learningRate: 1, momentum: 0)
        var v: [Float] = [0, 0]
        let g: [Float] = [1]
        XCTAssertThrowsError(try v.withUnsafeMutableBufferPointer { p in
            try g.withUnsafeBufferPointer { try sgd.step(name: "p", values: p, gradient: $0) }
        })
    }
}
