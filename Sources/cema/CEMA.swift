// The host command line: inspect, run and check ONNX models, and the CEMA simulation.
import ArgumentParser

@main
struct CEMA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cema",
        abstract: "CEMA edge runtime: run, inspect and adapt ONNX models for edge boards.",
        subcommands: [Inspect.self, Run.self, Conformance.self, Compare.self, Bench.self, Demo.self, Corrupt.self, Evaluate.self,
                      Simulate.self, Quantize.self, PatchCommand.self, KeygenCommand.self, FlashCommand.self, ServeCommand.self, BenchCloud.self])
}
