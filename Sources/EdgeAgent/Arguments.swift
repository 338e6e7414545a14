// The argument parsing and start-up steps every edge-agent subcommand shares.
import EdgeRuntime

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

/// The shipped model in `precision` (nil: as the file is) with the store's last good parameters applied;
/// prints what start-up skipped.
func restoredModel(_ modelPath: String, store: PatchStore, precision: DevicePrecision? = nil) throws(PatchStoreError) -> (Model, PatchStoreState)? {
    guard let model = loadModel(modelPath, precision: precision) else { return nil }
    let state = try store.restore(model)
    for problem in state.problems where state.slot != .active { printError("edge-agent: store \(problem)") }
    return (model, state)
}


/// The model file as it runs in `precision` (nil: as the file is); prints why and returns nil when it
/// cannot be read or does not match the precision asked for.
func loadModel(_ path: String, precision: DevicePrecision?) -> Model? {
    let model: Model
    do { model = try Model(path: path) } catch {
        printError("edge-agent: \(error.description)")
        return nil
    }
    do { return try model.forDevice(precision) } catch {
        printError("edge-agent: \(path): \(error.description)")
        return nil
    }
}

extension Arguments {
    /// --precision fp32|fp16|int8, nil when absent (the file's own); false after a message when malformed.
    func precision() -> (ok: Bool, value: DevicePrecision?) {
        guard let text = options["--precision"]?.last else { return (true, nil) }
        do { return (true, try DevicePrecision(parsing: text)) } catch {
            printError("edge-agent: \(error.description)")
            return (false, nil)
        }
    }
}

/// The board's public key from KEY.pub; prints why and returns nil when it is missing or malformed.
func loadVerifier(_ keyPath: String) -> SignatureVerifier? {
    let keyBytes: [UInt8]
    do { keyBytes = try readFile(keyPath) } catch {
        printError("edge-agent: \(error.description)")
        return nil
    }
    do { return try SignatureVerifier(keyFile: keyBytes) } catch {
        printError("edge-agent: \(keyPath): \(error.description)")
        return nil
    }
}

extension Arguments {
    /// The last value of a numeric option, `fallback` when absent; nil (after a message) when it is not
    /// a number in `range`.
    func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>, command: String) -> Int? {
        guard let text = options[name]?.last else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            printError("edge-agent \(command): \(name) takes a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            return nil
        }
        return v
    }
}
