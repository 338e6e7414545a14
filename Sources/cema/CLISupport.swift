// Small helpers shared by the subcommands: one-line failures, shape parsing.
import ArgumentParser
import EdgeRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Prints "cema: <reason>" to stderr and exits 1: every bad input ends in one readable line.
func fail(_ message: String) -> Never {
    fputs("cema: \(message)\n", stderr)
    exit(1)
}

/// Parses "input=1x1x28x28" (or "1x1x28x28" for a single-input model) into a shape map.
func parseShapes(_ specs: [String], model: Model) -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    for spec in specs {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        let name: String, dims: String
        if parts.count == 2 { name = parts[0]; dims = parts[1] } else {
            guard model.graph.inputs.count == 1 else { fail("--shape \(spec): name the input (NAME=DxDxD), the model has several") }
            name = model.graph.inputs[0].name
            dims = parts[0]
        }
        var shape: [Int] = []
        for d in dims.split(separator: "x") {
            guard let v = Int(d), v >= 0 else { fail("--shape \(spec): '\(d)' is not a dimension") }
            shape.append(v)
        }
        shapes[name] = shape
    }
    return shapes
}

func loadModel(_ path: String) -> Model {
    do { return try Model(path: path) } catch { fail("\(path): \(error)") }
}

func shapeText(_ declared: [Dimension]?) -> String {
    guard let declared else { return "(unknown shape)" }
    return "[" + declared.map { d -> String in
        switch d {
        case .fixed(let n): return "\(n)"
        case .symbolic(let s): return s.isEmpty ? "?" : s
        }
    }.joined(separator: ", ") + "]"
}

/// Input shapes for a model: the user's, else declared ones with symbolic dims set to `batch`.
func resolvedShapes(_ model: Model, specs: [String], batch: Int) -> [String: [Int]] {
    var shapes = parseShapes(specs, model: model)
    for input in model.graph.inputs where shapes[input.name] == nil {
        guard let declared = input.shape else { continue }
        shapes[input.name] = declared.map { d in
            if case .fixed(let n) = d { return n }
            return batch
        }
    }
    return shapes
}
