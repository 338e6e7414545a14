// edge-agent: the board binary (Embedded Swift). Subcommands mirror the host CLI's `run` and
// `conformance` so board results can be checked against the host build's; `daemon` is the service loop.
// One file per subcommand; shared parsing in Arguments.swift.
import EdgeRuntime

let usage = """
    usage: edge-agent run MODEL --input IN.pb [--input ...] [--output OUT.pb ...] [--threads N] [--precision P]
           edge-agent conformance DIR... [--threads N] [--quiet]
           edge-agent patch MODEL --store DIR --pubkey KEY.pub PATCH
           edge-agent serve MODEL (--serial DEVICE [--baud 115200] | --listen [HOST:]PORT) --store DIR --pubkey KEY.pub [--count N]
           edge-agent daemon MODEL --store DIR --pubkey KEY.pub (--cloud HOST:PORT | --outbox DIR [--inbox DIR])
                             --frames FILE.idx|-|DIR [--labels L.idx] [--batch 64] [--device-id ID] [--sync-ms N]
                             [--backoff-initial-ms 500] [--backoff-max-ms 30000] [--connect-timeout-ms 1000] [--quiet]
                             [--precision P]
           --precision fp32|fp16|int8: fp16 stores the weights as binary16 (fp32 arithmetic, or native fp16 on
           ARMv8.2 FP16 CPUs unless CEDGE_FP16=widen; same model identity; fp16 files run fp16); int8 needs a
           QDQ model (cema quantize); without it a model runs as its file is
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
    case "daemon": return daemonCommand(rest)
    case "status": return statusCommand(rest)
    case "info":
        print("edge-agent: kernels \(Platform.kernelISA), fp16 \(Platform.halfPath), int8 \(Platform.int8Path), \(Platform.cpuCount) cores")
        return 0
    case "--help", "-h", "help":
        print(usage)
        return 0
    default:
        printError("edge-agent: unknown command '\(command)'\n" + usage)
        return 2
    }
}

