// `edge-agent patch`: verify, store (A/B) and apply one signed patch file.
import EdgeRuntime

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

