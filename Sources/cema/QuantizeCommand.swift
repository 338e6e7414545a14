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
        let names = QuantizedGraphBuilder.activationsToQuantize(m.graph)
        let batch = 32
        let calibrator: ActivationCalibrator
        do { calibrator = try ActivationCalibrator(model: m, names: names, batch: batch) } catch { fail("\(model): \(error)") }
        let shape = calibrator.session.inputShapes[0]
        if shape.count != 4 || shape[1] * shape[2] * shape[3] != images.pixelsPerImage {
            fail("\(model) takes \(describeShape(shape)), the images are \(images.rows)x\(images.columns)")
        }
        let n = min(samples, images.count)
        let input = calibrator.session.inputPointer(0).assumingMemoryBound(to: Float.self)
        func pass(_ record: (Int) -> Void) {
            var first = 0
            while first < n {
                let rows = min(batch, n - first)
                let px = images.pixelsPerImage
                for i in 0..<(batch * px) { input[i] = i < rows * px ? Float(images.pixels[first * px + i]) / 255 : 0 }
                calibrator.session.run()
                record(rows)
                first += rows
            }
        }
        pass { calibrator.recordRanges(rows: $0) }
        if method == "percentile" { pass { calibrator.recordHistograms(rows: $0) } }
        let ranges = calibrator.ranges(percentile: method == "percentile" ? percentile : nil)
        do {
            let q = try QuantizedGraphBuilder.build(m.graph, ranges: ranges)
            try writeFile(out, try ONNXGraphWriter.encode(q))
            // Loading and preparing it proves the file is well formed before anyone ships it.
            _ = try Model(path: out).prepare(batch: 1)
        } catch { fail("\(error)") }
        print("\(out): \(names.count) activations calibrated on \(n) images (\(method)), "
              + "\(QuantizedGraphBuilder.quantizableNodes(m.graph).count) Conv/Gemm weights in int8")
    }
}
