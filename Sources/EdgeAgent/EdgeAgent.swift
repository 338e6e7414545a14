// edge-agent: the board binary (Embedded Swift). Subcommands mirror the host CLI's `run` and
// `conformance` so board results can be checked against the host build's.
import EdgeRuntime

let usage = """
    usage: edge-agent run MODEL --input IN.pb [--input ...] [--output OUT.pb ...] [--threads N]
           edge-agent conformance DIR... [--threads N] [--quiet]
           edge-agent info
    """

// Embedded Swift has no CommandLine, so the C entry point is declared directly (works in both modes).
@_cdecl("main")
func edgeAgentMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var args: [String] = []
    for i in 1..<Int(argc) { args.append(String(cString: argv[i]!)) }
    guard let command = args.first else {
        printError(usage)
        return 2
    }
    let rest = Array(args.dropFirst())
    switch command {
    case "run": return runCommand(rest)
    case "conformance": return conformanceCommand(rest)
    case "info":
        print("edge-agent: kernels \(Platform.kernelISA), \(Platform.cpuCount) cores")
        return 0
    case "--help", "-h", "help":
        print(usage)
        return 0
    default:
        printError("edge-agent: unknown command '\(command)'\n" + usage)
        return 2
    }
}

/// Splits "--name value" options from positional arguments; repeated options accumulate.
struct Arguments {
    var positional: [String] = []
    var options: [String: [String]] = [:]
    var flags: [String] = []

    init?(_ args: [String], valued: [String], flags known: [String]) {
        var i = 0
        while i < args.count {
            let a = args[i]
            if valued.contains(a) {
                guard i + 1 < args.count else {
                    printError("edge-agent: \(a) needs a value")
                    return nil
                }
                options[a, default: []].append(args[i + 1])
                i += 2
            } else if known.contains(a) {
                flags.append(a)
                i += 1
            } else if a.hasPrefix("--") {
                printError("edge-agent: unknown option \(a)")
                return nil
            } else {
                positional.append(a)
                i += 1
            }
        }
    }

    func threads() -> Int {
        guard let t = options["--threads"]?.last else { return 0 }
        return Int(t) ?? 0
    }
}

func runCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--input", "--output", "--threads"], flags: []),
          parsed.positional.count == 1 else {
        printError("edge-agent run: give one MODEL\n" + usage)
        return 2
    }
    RuntimeThreads.set(parsed.threads())
    let path = parsed.positional[0]
    let inputs = parsed.options["--input"] ?? []
    let outputs = parsed.options["--output"] ?? []
    do {
        let model = try Model(path: path)
        let g = model.graph
        if inputs.count != g.inputs.count {
            printError("edge-agent: \(path) takes \(g.inputs.count) input(s), \(inputs.count) given")
            return 1
        }
        var tensors: [Tensor] = []
        var shapes: [String: [Int]] = [:]
        var types: [String: ElementType] = [:]
        for (k, file) in inputs.enumerated() {
            let t = try TensorProtoCodec.decode(bytes: try readFile(file), label: file).tensor
            tensors.append(t)
            shapes[g.inputs[k].name] = t.shape
            types[g.inputs[k].name] = t.type
        }
        let session = try model.prepare(inputShapes: shapes, inputTypes: types)
        let results = try session.run(tensors)
        if outputs.count > results.count {
            printError("edge-agent: the model has \(results.count) output(s), \(outputs.count) files given")
            return 1
        }
        for (k, t) in results.enumerated() {
            if k < outputs.count {
                try writeFile(outputs[k], TensorProtoCodec.encode(t, name: session.outputNames[k]))
            } else if outputs.isEmpty {
                print("\(session.outputNames[k]) \(t.type.name) \(describeShape(t.shape))")
            }
        }
        return 0
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
}

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
