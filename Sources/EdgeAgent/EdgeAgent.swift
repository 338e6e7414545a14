// edge-agent: the board binary (Embedded Swift). Subcommands mirror the host CLI's `run` and
// `conformance` so board results can be checked against the host build's.
import EdgeRuntime

let usage = """
    usage: edge-agent run MODEL --input IN.pb [--input ...] [--output OUT.pb ...] [--threads N]
           edge-agent conformance DIR... [--threads N] [--quiet]
           edge-agent patch MODEL --store DIR --pubkey KEY.pub PATCH
           edge-agent serve MODEL --serial DEVICE --store DIR --pubkey KEY.pub [--baud 115200] [--count N]
           edge-agent rollback --store DIR
           edge-agent status --store DIR MODEL
           edge-agent info
    """

// Embedded Swift has no CommandLine, so the board build declares the C entry point directly; the host
// build enters through HostEntry.swift.
#if hasFeature(Embedded)
@_cdecl("main")
func boardMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    edgeAgentMain(argc, argv)
}
#endif

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
    case "patch": return patchCommand(rest)
    case "rollback": return rollbackCommand(rest)
    case "serve": return serveCommand(rest)
    case "status": return statusCommand(rest)
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

/// The shipped model with the store's last good parameters applied; prints what start-up skipped.
func restoredModel(_ modelPath: String, store: PatchStore) throws(PatchStoreError) -> (Model, PatchStoreState)? {
    let model: Model
    do { model = try Model(path: modelPath) } catch {
        printError("edge-agent: \(error.description)")
        return nil
    }
    let state = try store.restore(model)
    for problem in state.problems where state.slot != .active { printError("edge-agent: store \(problem)") }
    return (model, state)
}

func patchCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--store", "--pubkey"], flags: []), parsed.positional.count == 2,
          let dir = parsed.options["--store"]?.last, let keyPath = parsed.options["--pubkey"]?.last else {
        printError("edge-agent patch: give MODEL PATCH --store DIR --pubkey KEY.pub\n" + usage)
        return 2
    }
    let patchPath = parsed.positional[1]
    // Each step throws one error type (Embedded Swift has typed throws only), so each has its own catch.
    // The key and the patch are read and the signature checked before the store is touched.
    let verifier: SignatureVerifier
    let bytes: [UInt8]
    do {
        let keyBytes = try readFile(keyPath)
        bytes = try readFile(patchPath)
        do { verifier = try SignatureVerifier(keyFile: keyBytes) } catch {
            printError("edge-agent: \(keyPath): \(error.description)")
            return 1
        }
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
    do {
        let store = try PatchStore(directory: dir)
        guard let (model, state) = try restoredModel(parsed.positional[0], store: store) else { return 1 }
        let version = try store.install(patchBytes: bytes, verifier: verifier, model: model)
        print("edge-agent: \(patchPath) verified, stored and applied: version \(state.version) -> \(version)")
        return 0
    } catch {
        printError("edge-agent: \(patchPath): \(error.description)")
        return 1
    }
}

func rollbackCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--store"], flags: []), parsed.positional.isEmpty,
          let dir = parsed.options["--store"]?.last else {
        printError("edge-agent rollback: give --store DIR\n" + usage)
        return 2
    }
    do {
        let version = try PatchStore(directory: dir).rollback()
        print("edge-agent: rolled back; version \(version) is active")
        return 0
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
}

func statusCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--store"], flags: []), parsed.positional.count == 1,
          let dir = parsed.options["--store"]?.last else {
        printError("edge-agent status: give MODEL --store DIR\n" + usage)
        return 2
    }
    do {
        let store = try PatchStore(directory: dir)
        guard let (model, state) = try restoredModel(parsed.positional[0], store: store) else { return 1 }
        print("model     sha256 \(SHA256.hex(model.modelSHA256))")
        print("using     \(state.slot.name), version \(state.version)")
        print("accepts   patches to versions above \(state.highestAccepted)")
        for problem in state.problems { print("skipped   \(problem)") }
        return 0
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
}

/// Receives signed patches over a serial line (from `cema flash`) until `--count` were handled (forever
/// without it), installing each through the store and answering each.
func serveCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--serial", "--store", "--pubkey", "--baud", "--count"], flags: []),
          parsed.positional.count == 1, let device = parsed.options["--serial"]?.last,
          let dir = parsed.options["--store"]?.last, let keyPath = parsed.options["--pubkey"]?.last else {
        printError("edge-agent serve: give MODEL --serial DEVICE --store DIR --pubkey KEY.pub\n" + usage)
        return 2
    }
    guard let baud = UInt32(parsed.options["--baud"]?.last ?? "115200") else {
        printError("edge-agent serve: --baud takes a number")
        return 2
    }
    let limit = parsed.options["--count"]?.last.flatMap { Int($0) }
    let verifier: SignatureVerifier
    do {
        let keyBytes = try readFile(keyPath)
        do { verifier = try SignatureVerifier(keyFile: keyBytes) } catch {
            printError("edge-agent: \(keyPath): \(error.description)")
            return 1
        }
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
    let service: SerialPatchService
    do {
        let store = try PatchStore(directory: dir)
        guard let (model, state) = try restoredModel(parsed.positional[0], store: store) else { return 1 }
        print("edge-agent: serving \(device) at \(baud) baud; parameters: \(state.slot.name), version \(state.version)")
        service = SerialPatchService(store: store, verifier: verifier, model: model)
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
    do {
        let port = try SerialPort(path: device, baud: baud)
        let config = FrameCodecConfiguration(chunkSize: 512, maxFramePayload: 1024, retransmitAfterMs: 200,
                                             maxAttempts: 10, firstMessageID: serialSessionMessageID())
        var link: SerialLink
        do { link = SerialLink(port: port, codec: try FrameCodec(config)) } catch {
            printError("edge-agent: \(error.description)")
            return 1
        }
        var handled = 0
        while limit == nil || handled < limit! || link.codec.isSending {
            for reply in try service.serve(&link, waitMs: 50) {
                handled += 1
                switch reply {
                case .installed(let v): print("edge-agent: patch installed, version \(v)")
                case .alreadyApplied(let v, _): print("edge-agent: patch to version \(v) already applied; not applied again")
                case .refused(let reason): printError("edge-agent: patch refused: \(reason)")
                }
            }
        }
        return 0
    } catch {
        printError("edge-agent: \(device): \(error.description)")
        return 1
    }
}
