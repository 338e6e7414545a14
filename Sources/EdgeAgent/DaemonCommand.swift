// `edge-agent daemon`: the board's service loop. Serves predictions for a stream of frames batch by batch,
// selects samples with SampleSelector, uploads them to `cema serve` over TCP (--cloud) or writes them to
// an outbox directory for a serial or offline link (--outbox), and installs verified patches between
// batches. Losing the cloud never stops the predictions: the uplink reconnects with back-off meanwhile.
import EdgeRuntime

struct DaemonOptions {
    var modelPath: String
    var store: String
    var keyPath: String
    var cloud: TCPAddress?
    var outbox: String?
    var inbox: String?
    var frames: String
    var labels: String?
    var batch: Int
    var deviceID: String
    /// After each upload, wait up to this long for the cloud's answer (0: never wait).
    var syncMs: Int
    var backoff: BackoffConfig
    var connectTimeoutMs: Int
    var quiet: Bool
    /// nil: as the model file is (fp32, or int8 for a QDQ file).
    var precision: DevicePrecision?
}

func daemonCommand(_ args: [String]) -> Int32 {
    let valued = ["--store", "--pubkey", "--cloud", "--outbox", "--inbox", "--frames", "--labels", "--batch", "--device-id",
                  "--sync-ms", "--backoff-initial-ms", "--backoff-max-ms", "--connect-timeout-ms", "--threads", "--precision"]
    guard let parsed = Arguments(args, valued: valued, flags: ["--quiet"]), parsed.positional.count == 1,
          let store = parsed.options["--store"]?.last, let key = parsed.options["--pubkey"]?.last,
          let frames = parsed.options["--frames"]?.last,
          (parsed.options["--cloud"] == nil) != (parsed.options["--outbox"] == nil) else {
        printError("edge-agent daemon: give MODEL --store DIR --pubkey KEY.pub (--cloud HOST:PORT or --outbox DIR) --frames FILE.idx|-|DIR\n" + usage)
        return 2
    }
    let c = "daemon"
    guard let batch = parsed.integer("--batch", 64, 1...4096, command: c),
          let syncMs = parsed.integer("--sync-ms", 0, 0...600_000, command: c),
          let initial = parsed.integer("--backoff-initial-ms", 500, 1...3_600_000, command: c),
          let maximum = parsed.integer("--backoff-max-ms", 30_000, 1...3_600_000, command: c),
          let connectTimeout = parsed.integer("--connect-timeout-ms", 1_000, 1...600_000, command: c) else { return 2 }
    var cloud: TCPAddress?
    if let text = parsed.options["--cloud"]?.last {
        do { cloud = try TCPAddress(parsing: text) } catch {
            printError("edge-agent daemon: --cloud: \(error.description)")
            return 2
        }
    }
    let precision = parsed.precision()
    guard precision.ok else { return 2 }
    RuntimeThreads.set(parsed.threads())
    let options = DaemonOptions(modelPath: parsed.positional[0], store: store, keyPath: key, cloud: cloud,
                                outbox: parsed.options["--outbox"]?.last, inbox: parsed.options["--inbox"]?.last,
                                frames: frames, labels: parsed.options["--labels"]?.last, batch: batch,
                                deviceID: parsed.options["--device-id"]?.last ?? "board", syncMs: syncMs,
                                backoff: BackoffConfig(initialMs: initial, maximumMs: max(initial, maximum)),
                                connectTimeoutMs: connectTimeout, quiet: parsed.flags.contains("--quiet"), precision: precision.value)
    guard let daemon = Daemon(options) else { return 1 }
    return daemon.run()
}
