// `cema quantize`: calibrates activation ranges by running the fp32 model here and writes a QDQ ONNX model
// (per-channel symmetric int8 weights, uint8 activations, BatchNormalization kept as float parameters).
import ArgumentParser
import EdgeRuntime
import Simulation

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an int8 QDQ ONNX model calibrated on IDX images.",
        discussion: "Pixels are fed as pixel / 255, as the shipped models expect. The result runs in this runtime "
            + "(int8 kernels) and in onnxruntime.")

    @Argument(help: "fp32 ONNX model taking [N, 1, H, W] pixels in [0, 1].") var model: String
    @Option(help: "IDX images (gzip or plain) to calibrate on.") var calibration: String
    @Option(help: "Output QDQ ONNX file.") var out: String
    @Option(help: "minmax, or percentile (99.99% of each activation's values, both ends).") var method = "minmax"
    @Option(help: "Calibration images (the first N).") var samples = 512
    @Option(help: "Percentile for --method percentile.") var percentile: Float = 99.99
    @Option(help: "Kernel threads (0: all cores).") var threads = 0

    func run() throws {
        if method != "minmax" && method != "percentile" { fail("--method must be minmax or percentile") }
        if samples < 1 { fail("--samples must be positive") }
        if !(percentile > 50 && percentile <= 100) { fail("--percentile must be in (50, 100]") }
        RuntimeThreads.set(threads)
        let m = loadModel(model)
        let images: IDXImages
        do { images = try IDXImages.read(calibration) } catch { fail("\(error)") }
        let n = min(samples, images.count)
        let q: (graph: Graph, activations: Int)
        do {
            q = try ModelQuantizer.quantize(m, pixels: images.pixels, pixelsPerImage: images.pixelsPerImage, count: n,
                                            method: method == "percentile" ? .percentile(percentile) : .minMax)
        } catch { fail("\(model): \(error)") }
        do {
            try writeFile(out, try ONNXGraphWriter.encode(q.graph))
            // Loading and preparing it proves the file is well formed before anyone ships it.
            _ = try Model(path: out).prepare(batch: 1)
        } catch { fail("\(error)") }
        print("\(out): \(q.activations) activations calibrated on \(n) images (\(method)), "
              + "\(QuantizedGraphBuilder.quantizableNodes(m.graph).count) Conv/Gemm weights in int8")
    }
}
