// `cema inspect`: what a model is made of, and what it costs for a given input shape.
import ArgumentParser
import EdgeRuntime
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's opset, inputs and outputs, operators, parameters, normalization layers and MACs.")

    @Argument(help: "ONNX model file.") var model: String
    @Option(name: .long, help: "Input shape NAME=DxDxD (repeatable); symbolic dimensions default to --batch.")
    var shape: [String] = []
    @Option(help: "Value for symbolic dimensions.") var batch: Int = 1

    func run() throws {
        let m = loadModel(model)
        let g = m.graph
        print("model       \(model)")
        print("ir version  \(g.irVersion), opset \(g.opsetVersion)\(g.producer.isEmpty ? "" : ", producer \(g.producer)")")
        for input in g.inputs { print("input       \(input.name) \(input.type?.name ?? "?") \(shapeText(input.shape))") }
        for output in g.outputs { print("output      \(output.name) \(output.type?.name ?? "?") \(shapeText(output.shape))") }
        let shapes = resolvedShapes(m, specs: shape, batch: batch)
        let summary: ModelSummary
        do { summary = try m.summary(inputShapes: shapes) } catch { fail("\(model): \(error)") }
        print("parameters  \(summary.parameterCount)")
        print("operators   " + summary.operatorCounts.map { "\($0.op) x\($0.count)" }.joined(separator: ", "))
        print("norm layers \(summary.normLayers.count), affine parameters \(summary.normAffineCount)")
        for layer in summary.normLayers {
            print("  \(layer.op) \(layer.node): \(layer.channels) channels, " + layer.parameterNames.joined(separator: ", "))
        }
        let shapeList = shapes.keys.sorted().map { "\($0)=\(describeShape(shapes[$0]!))" }.joined(separator: " ")
        print("for input   \(shapeList)")
        print("MACs        \(summary.macs) (\(String(format: "%.2f", Double(summary.macs) / 1e6)) M)")
        print("activations \(summary.arenaBytes) bytes in one arena")
        for (name, s) in summary.outputShapes { print("  output \(name) \(describeShape(s))") }
    }
}
