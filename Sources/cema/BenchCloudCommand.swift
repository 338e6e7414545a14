// `cema bench-cloud`: time of CEMA's cloud steps on the shipped models (median of repeated runs), for
// `make bench` to print beside the same steps in PyTorch.
import ArgumentParser
import CloudTrainer
import EdgeRuntime
import Foundation

struct BenchCloud: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cloud",
        abstract: "Time one distillation step (teacher forward, edge-copy forward + backward, SGD) and one foundation entropy step.")

    @Option(help: "Edge model.") var edge = "models/edge.onnx"
    @Option(help: "Foundation model.") var foundation = "models/foundation.onnx"
    @Option(help: "Kernel threads (0: all cores).") var threads = 0
    @Option(help: "Timed runs.") var runs = 10
    @Option(help: "Untimed warm-up runs.") var warmup = 2
    @Flag(help: "Print only the two medians in milliseconds (distillation, foundation).") var plain = false

    func run() throws {
        RuntimeThreads.set(threads)
        guard let e = FileManager.default.contents(atPath: edge) else { fail("cannot read \(edge)") }
        guard let f = FileManager.default.contents(atPath: foundation) else { fail("cannot read \(foundation)") }
        let cloud: CloudAdapter
        do { cloud = try CloudAdapter(edgeModel: [UInt8](e), foundationModel: [UInt8](f)) } catch { fail("\(error)") }
        let steps = CloudStepConfig()
        let kd = steps.uploadBatch + steps.replayedPerStep
        // Deterministic pseudo-random frames: the time must not depend on the data.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func frames(_ n: Int) -> [UInt8] {
            (0..<(n * 784)).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        }
        let mixed = frames(kd), fresh = frames(steps.uploadBatch)
        func median(_ body: () throws -> Void) rethrows -> Double {
            for _ in 0..<warmup { try body() }
            var times: [Double] = []
            for _ in 0..<max(runs, 1) {
                let start = Platform.monotonicNanoseconds()
                try body()
                times.append(Double(Platform.monotonicNanoseconds() - start) / 1e6)
            }
            return times.sorted()[times.count / 2]
        }
        do {
            let distill = try median { _ = try cloud.distill(mixed) }
            let foundationStep = try median { _ = try cloud.foundationStep(fresh) }
            if plain {
                print(String(format: "%.3f %.3f", distill, foundationStep))
            } else {
                print(String(format: "distillation step (batch %d): median %.2f ms; foundation entropy step (batch %d): median %.2f ms; %d runs, kernels %@",
                             kd, distill, steps.uploadBatch, foundationStep, runs, Platform.kernelISA))
            }
        } catch { fail("\(error)") }
    }
}
