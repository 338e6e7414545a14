// `edge-agent rollback`: make the previous parameters active again.
import EdgeRuntime

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

