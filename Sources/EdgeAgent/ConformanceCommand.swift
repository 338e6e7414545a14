// `edge-agent conformance`: ONNX backend-test cases, like `cema conformance`.
import EdgeRuntime

func conformanceCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--threads"], flags: ["--quiet"]), !parsed.positional.isEmpty else {
        printError("edge-agent conformance: give case directories\n" + usage)
        return 2
    }
    RuntimeThreads.set(parsed.threads())
    let cases = Conformance.caseDirectories(parsed.positional)
    if cases.isEmpty {
        printError("edge-agent: no test cases (directories with model.onnx) found")
        return 1
    }
    let summary = runConformance(cases, quiet: parsed.flags.contains("--quiet"))
    return summary.failed > 0 ? 1 : 0
}

