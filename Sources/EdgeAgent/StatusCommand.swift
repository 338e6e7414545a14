// `edge-agent status`: which parameters the store would load, and why others were skipped.
import EdgeRuntime

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

