// `edge-agent run`: like `cema run`, ONNX TensorProto files in and out.
import EdgeRuntime

func runCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--input", "--output", "--threads", "--precision"], flags: []),
          parsed.positional.count == 1 else {
        printError("edge-agent run: give one MODEL\n" + usage)
        return 2
    }
    let precision = parsed.precision()
    guard precision.ok else { return 2 }
    RuntimeThreads.set(parsed.threads())
    let path = parsed.positional[0]
    let inputs = parsed.options["--input"] ?? []
    let outputs = parsed.options["--output"] ?? []
    guard let model = loadModel(path, precision: precision.value) else { return 1 }
    do {
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

