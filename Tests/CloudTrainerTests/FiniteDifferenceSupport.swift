// Test support: checks a TrainableModel's normalization-parameter gradients of L = sum(R * output) (R a
// fixed random tensor) against central finite differences of the float32 forward.
import XCTest
@testable import CloudTrainer
@testable import EdgeRuntime

struct GradientComparison {
    /// max_i |analytic_i - numeric_i| / (|numeric_i| + floor), floor = 1e-2 * max|numeric| + 1e-4.
    var maxError: Double = 0
    var worst = ""
    var checked = 0
    var maxMagnitude: Double = 0
}

/// Why these tolerances: the forward is float32, L sums O(100) products, so L carries a rounding error of
/// about 1e-6 (relative ~1e-7 on |L| ~ 10); a central difference with step h divides that by 2h (2.5e-4 at
/// h = 2e-3) and adds a truncation error O(h^2 |f'''|) ~ 1e-5 on these smooth (or, with Relu/Clip/MaxPool,
/// piecewise smooth and deterministically away from kinks) graphs. Gradients here are O(0.1..10), so a
/// relative error of 1e-2 with a floor of 1e-2 of the largest gradient separates correct gradients (seen:
/// <= ~2e-3) from any real mistake (a wrong term changes gradients by O(1) relative).
func compareWithFiniteDifferences(_ graph: Graph, batch: Int, bnMode: BNMode = .batchRenormalization,
                                  step h: Float = 2e-3, seed: UInt64) throws -> GradientComparison {
    let model = try TrainableModel(graph: graph, batch: batch, bnMode: bnMode, runningStatistics: .fromGraph)
    var random = SeededRandom(seed: seed)
    let input = random.floats(model.inputCount)
    let weights = random.floats(model.outputCount)
    func loss() throws -> Double {
        let out = try model.forward(input, updatingRunningStatistics: false)
        var s = 0.0
        for i in 0..<out.count { s += Double(weights[i]) * Double(out[i]) }
        return s
    }
    _ = try loss()
    try model.backward(dLogits: weights)
    let analytic = model.normGradients
    // batchRenormalization's r and d are constants of the gradient (detached in the reference), so the
    // differences are taken with them held at the base point's values.
    model.freezeRenormalization(true)
    defer { model.freezeRenormalization(false) }
    var numeric: [String: [Double]] = [:]
    var largest = 0.0
    for p in model.parameters {
        var g = [Double](repeating: 0, count: p.count)
        for i in 0..<p.count {
            let saved = p.values[i]
            p.values[i] = saved + h
            let up = try loss()
            p.values[i] = saved - h
            let down = try loss()
            p.values[i] = saved
            // Divide by the step actually taken in float32.
            g[i] = (up - down) / (Double(saved + h) - Double(saved - h))
            largest = max(largest, abs(g[i]))
        }
        numeric[p.name] = g
    }
    var result = GradientComparison()
    result.maxMagnitude = largest
    let floor = 1e-2 * largest + 1e-4
    for p in model.parameters {
        let a = analytic[p.name]!, n = numeric[p.name]!
        for i in 0..<p.count {
            let e = abs(Double(a[i]) - n[i]) / (abs(n[i]) + floor)
            result.checked += 1
            if e > result.maxError {
                result.maxError = e
                result.worst = "\(p.name)[\(i)]: analytic \(a[i]) numeric \(n[i])"
            }
        }
    }
    return result
}

func assertGradientsMatch(_ graph: Graph, batch: Int, bnMode: BNMode = .batchRenormalization, seed: UInt64 = 7,
                          tolerance: Double = 1e-2, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let r = try compareWithFiniteDifferences(graph, batch: batch, bnMode: bnMode, seed: seed)
        print("finite differences (\(bnMode), line \(line)): \(r.checked) gradients, max error \(r.maxError)")
        XCTAssertGreaterThan(r.checked, 0, "no parameters were checked", file: file, line: line)
        XCTAssertGreaterThan(r.maxMagnitude, 1e-3, "all gradients vanish: the check would be vacuous", file: file, line: line)
        XCTAssertLessThan(r.maxError, tolerance, "worst: \(r.worst)", file: file, line: line)
    } catch {
        XCTFail("\(error)", file: file, line: line)
    }
}
