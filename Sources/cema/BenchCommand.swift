// `cema bench`: in-process latency of one model at a batch size and thread count (median of runs).
import ArgumentParser
import EdgeRuntime
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time inference of a model on random inputs: median latency over repeated runs.")

    @Argument(help: "ONNX model file.") var model: String
    @Option(help: "Batch size (first dimension of every input).") var batch: Int = 1
    @Option(help: "Kernel threads (0: all cores).") var threads: Int = 0
    @Option(help: "Timed runs.") var runs: Int = 30
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 3
    @Flag(help: "Print only the median in milliseconds.") var plain = false
    @Option(help: "fp32, fp16 (weights stored as binary16) or int8 (needs a QDQ model); default: as the file is.")
    var precision: String?
    @Flag(help: "Report memory instead of time: bytes of constants the session holds (weights), its arena, and the process RSS growth over load, prepare and one run.")
    var memory = false
    @Flag(help: "Also print each step's mean time over the runs (a second pass, timed step by step).")
    var profile = false

    func run() throws {
        RuntimeThreads.set(threads)
        let rssBefore = residentBytes()
        let session: Session
        do {
            let p = try precision.map { try DevicePrecision(parsing: $0) }
            session = try loadModel(model).forDevice(p).prepare(batch: batch)
        } catch { fail("\(model): \(error)") }
        // Deterministic pseudo-random inputs in [0, 1): timing must not depend on the data path taken.
        var state: UInt64 = 0x9E3779B97F4A7C15
        for i in 0..<session.inputNames.count where session.inputTypes[i] == .float32 {
            let n = session.inputShapes[i].reduce(1, *)
            let p = session.inputPointer(i).assumingMemoryBound(to: Float.self)
            for k in 0..<n {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                p[k] = Float(state >> 40) / Float(1 << 24)
            }
        }
        if memory {
            session.run()   // the arena's pages are resident only once a run touched them
            let rss = residentBytes() - rssBefore
            if plain { print("\(session.constantBytes) \(session.arenaBytes) \(rss)") } else {
                print("\(model) batch \(batch): weights \(session.constantBytes) bytes (session constants), arena \(session.arenaBytes) bytes, "
                      + "RSS +\(rss) bytes over load, prepare and one run")
            }
            return
        }
        for _ in 0..<warmup { session.run() }
        var times: [Double] = []
        for _ in 0..<max(runs, 1) {
            let start = Platform.monotonicNanoseconds()
            session.run()
            times.append(Double(Platform.monotonicNanoseconds() - start) / 1e6)
        }
        times.sort()
        let median = times[times.count / 2]
        if profile { printProfile(session) }
        if plain {
            print(String(format: "%.4f", median))
        } else {
            print(String(format: "%@ batch %d threads %d: median %.3f ms (min %.3f, max %.3f) over %d runs, arena %d bytes",
                         model, batch, threads, median, times.first!, times.last!, times.count, session.arenaBytes))
        }
    }

    /// Resident set size of this process (Linux /proc/self/statm), 0 where it cannot be read.
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    /// Mean time of each step over `runs` step-by-step runs, in graph order; the clock reads between steps
    /// add a little to each.
    func printProfile(_ session: Session) {
        let steps = session.stepOperators.count
        var total = [UInt64](repeating: 0, count: steps)
        for _ in 0..<max(runs, 1) {
            for i in 0..<steps {
                let start = Platform.monotonicNanoseconds()
                session.runStep(i)
                total[i] += Platform.monotonicNanoseconds() - start
            }
        }
        let us = total.map { Double($0) / Double(max(runs, 1)) / 1000 }, sum = us.reduce(0, +)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("step", 6) + pad("operator", 22) + "   mean us   share")
        for i in 0..<steps {
            print(pad("\(i)", 6) + pad(session.stepOperators[i], 22) + String(format: "%11.2f %6.1f%%", us[i], 100 * us[i] / max(sum, 1e-9)))
        }
        print(pad("sum of steps", 28) + String(format: "%11.2f", sum))
    }
}
