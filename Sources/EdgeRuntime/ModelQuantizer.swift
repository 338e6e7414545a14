// The whole of `cema quantize` minus file I/O: calibrate an fp32 image model on uint8 pixels (fed as
// pixel / 255) and build its QDQ graph. `cema quantize` and `cema simulate --precision int8` both call it,
// so the simulated device runs exactly the model the command line would write.

public enum CalibrationMethod: Equatable, Sendable {
    case minMax
    /// Ranges cut at this percentile (e.g. 99.99) of each activation's values, both ends.
    case percentile(Float)
}

public enum ModelQuantizeError: Error, CustomStringConvertible {
    case prepare(ModelLoadError)
    case inputSize(expects: [Int], pixelsPerImage: Int)
    case noImages
    case build(QuantizeError)

    public var description: String {
        switch self {
        case .prepare(let e): return "\(e)"
        case .inputSize(let s, let px): return "the model takes \(describeShape(s)), the images have \(px) pixels"
        case .noImages: return "no calibration images"
        case .build(.nothingToQuantize): return "the model has no Conv or Gemm with float weights to quantize"
        case .build(.missingRange(let t)): return "no calibrated range for \(t)"
        }
    }
}

public enum ModelQuantizer {
    /// The QDQ graph of `model`, calibrated on the first `count` images of `pixels` (back to back,
    /// `pixelsPerImage` each). Returns the graph and the number of activations calibrated.
    public static func quantize(_ model: Model, pixels: [UInt8], pixelsPerImage: Int, count: Int,
                                method: CalibrationMethod = .minMax, batch: Int = 32) throws(ModelQuantizeError) -> (graph: Graph, activations: Int) {
        let n = Swift.min(count, pixelsPerImage > 0 ? pixels.count / pixelsPerImage : 0)
        if n < 1 { throw .noImages }
        let names = QuantizedGraphBuilder.activationsToQuantize(model.graph)
        let calibrator: ActivationCalibrator
        do { calibrator = try ActivationCalibrator(model: model, names: names, batch: batch) } catch { throw .prepare(error) }
        let shape = calibrator.session.inputShapes[0]
        if shape.count != 4 || shape[1] * shape[2] * shape[3] != pixelsPerImage {
            throw .inputSize(expects: shape, pixelsPerImage: pixelsPerImage)
        }
        let input = calibrator.session.inputPointer(0).assumingMemoryBound(to: Float.self)
        func pass(_ record: (Int) -> Void) {
            var first = 0
            while first < n {
                let rows = Swift.min(batch, n - first)
                // A short last batch is zero-padded; only its first `rows` rows are recorded.
                for i in 0..<(batch * pixelsPerImage) {
                    input[i] = i < rows * pixelsPerImage ? Float(pixels[first * pixelsPerImage + i]) / 255 : 0
                }
                calibrator.session.run()
                record(rows)
                first += rows
            }
        }
        pass { calibrator.recordRanges(rows: $0) }
        var percentile: Float?
        if case .percentile(let p) = method {
            pass { calibrator.recordHistograms(rows: $0) }
            percentile = p
        }
        do {
            return (try QuantizedGraphBuilder.build(model.graph, ranges: calibrator.ranges(percentile: percentile)), names.count)
        } catch { throw .build(error) }
    }
}
