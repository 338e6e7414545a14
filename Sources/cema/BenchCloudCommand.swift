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
                // Where a distillation step's time goes: the teacher's forward, the student's forward, and
                // (the rest) the student's backward, the loss and SGD.
                let teacherModel = try TrainableModel(graph: try ModelLoader.load(bytes: [UInt8](f)), batch: kd, bnMode: .batchStatistics)
                let studentModel = try TrainableModel(graph: try ModelLoader.load(bytes: [UInt8](e)), batch: kd, bnMode: .batchRenormalization)
                let x = mixed.map { Float($0) / 255 }
                let teacherMs = median { x.withUnsafeBufferPointer { _ = teacherModel.forward($0.baseAddress!) } }
                let studentMs = median { x.withUnsafeBufferPointer { _ = studentModel.forward($0.baseAddress!) } }
                let dLogits = [Float](repeating: 0.01, count: studentModel.outputCount)
                let backwardMs = median { dLogits.withUnsafeBufferPointer { studentModel.backward(dLogits: $0.baseAddress!) } }
                print(String(format: "  of which: teacher forward %.2f ms, edge-copy forward %.2f ms, edge-copy backward %.2f ms, loss + SGD + copies %.2f ms",
                             teacherMs, studentMs, backwardMs, max(0, distill - teacherMs - studentMs - backwardMs)))
            }
        } catch { fail("\(error)") }
    }
}
