// `cema run`: one inference on ONNX TensorProto files, results written as TensorProto files.
import ArgumentParser
import EdgeRuntime

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on TensorProto (.pb) inputs and write its outputs as TensorProto files.")

    @Argument(help: "ONNX model file.") var model: String
    @Option(name: .long, help: "Input TensorProto file, in the model's input order (repeatable).")
    var input: [String] = []
    @Option(name: .long, help: "Output TensorProto file, in the model's output order (repeatable).")
    var output: [String] = []
    @Option(help: "Kernel threads (default: all cores).") var threads: Int = 0
    @Option(help: "fp32, fp16 (weights stored as binary16, arithmetic in fp32) or int8 (needs a QDQ model); default: as the file is.")
    var precision: String?

    func run() throws {
        RuntimeThreads.set(threads)
        let m: Model
        do { m = try loadModel(model).forDevice(precision.map { try DevicePrecision(parsing: $0) }) } catch { fail("\(model): \(error)") }
        let g = m.graph
        if input.count != g.inputs.count {
            fail("\(model) takes \(g.inputs.count) input(s) (\(g.inputs.map { $0.name }.joined(separator: ", "))), \(input.count) given")
        }
        var tensors: [Tensor] = []
        var shapes: [String: [Int]] = [:]
        var types: [String: ElementType] = [:]
        for (k, file) in input.enumerated() {
            do {
                let t = try TensorProtoCodec.decode(bytes: try readFile(file), label: file).tensor
                tensors.append(t)
                shapes[g.inputs[k].name] = t.shape
                types[g.inputs[k].name] = t.type
            } catch { fail("\(error)") }
        }
        do {
            let session = try m.prepare(inputShapes: shapes, inputTypes: types)
            let results = try session.run(tensors)
            if output.isEmpty {
                for (k, t) in results.enumerated() { print("\(session.outputNames[k]) \(t.type.name) \(describeShape(t.shape))") }
            }
            for (k, file) in output.enumerated() where k < results.count {
                let bytes = TensorProtoCodec.encode(results[k], name: session.outputNames[k])
                try writeFile(file, bytes)
            }
            if output.count > results.count { fail("the model has \(results.count) output(s), \(output.count) files given") }
        } catch { fail("\(model): \(error)") }
    }
}
