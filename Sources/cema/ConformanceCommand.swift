// `cema conformance`: the ONNX backend tests (or any directory in their layout), one line per case.
import ArgumentParser
import EdgeRuntime

struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run ONNX backend-test cases (model.onnx + test_data_set_N) and compare outputs.",
        discussion: "Each DIR is a case directory or a folder of them. Tolerance: |got - expected| <= 1e-5 + 1e-3 * |expected|. Exits 1 when any case fails.")

    @Argument(help: "Case directories or folders of cases.") var directories: [String]
    @Option(help: "Kernel threads (default: all cores).") var threads: Int = 0
    @Flag(help: "Print only failures and the summary.") var quiet = false

    func run() throws {
        RuntimeThreads.set(threads)
        let cases = EdgeRuntime.Conformance.caseDirectories(directories)
        if cases.isEmpty { fail("no test cases (directories with model.onnx) under \(directories.joined(separator: " "))") }
        let summary = runConformance(cases, quiet: quiet)
        if summary.failed > 0 { throw ExitCode(1) }
    }
}
