// A model prepared once for [batch, 1, H, W] images: uint8 pixels in, logits and predictions out.
import EdgeRuntime

public enum ClassifierError: Error, CustomStringConvertible {
    case prepare(model: String, reason: String)
    case inputSize(model: String, expects: [Int], rows: Int, columns: Int)
    case elementType(model: String, value: String, type: String)

    public var description: String {
        switch self {
        case .prepare(let model, let reason): return "\(model): \(reason)"
        case .inputSize(let model, let expects, let rows, let columns):
            return "\(model) takes \(describeShape(expects)), the images are \(rows)x\(columns)"
        case .elementType(let model, let value, let type):
            return "\(model): \(value) is \(type); a classifier reads and writes float32 or float16"
        }
    }
}

/// Pixels become floats in [0, 1] (pixel / 255), as the shipped models were trained. A partial last
/// batch is zero-padded; only its first `count` rows of logits mean anything. float16 inputs and outputs (fp16
/// files without keep_io_types) are converted at the boundary.
public final class BatchClassifier {
    public let batch: Int
    public let classes: Int
    public let pixelsPerImage: Int
    private let session: Session
    private let halfInput: Bool, halfOutput: Bool
    /// fp32 logits of a float16 output.
    private let wideLogits: UnsafeMutablePointer<Float>

    public init(model: Model, name: String, batch: Int, rows: Int, columns: Int) throws(ClassifierError) {
        precondition(batch > 0, "batch must be positive")
        do { session = try model.prepare(batch: batch) } catch {
            throw .prepare(model: name, reason: "\(error)")
        }
        let shape = session.inputShapes[0]
        for (value, type) in [("input", session.inputTypes[0]), ("output", session.outputTypes[0])]
        where type != .float32 && type != .float16 {
            throw .elementType(model: name, value: value, type: type.name)
        }
        guard shape.count == 4, shape[0] == batch, shape[1] * shape[2] * shape[3] == rows * columns,
              session.outputShapes[0].count == 2 else {
            throw .inputSize(model: name, expects: shape, rows: rows, columns: columns)
        }
        self.batch = batch
        pixelsPerImage = rows * columns
        classes = session.outputShapes[0][1]
        halfInput = session.inputTypes[0] == .float16
        halfOutput = session.outputTypes[0] == .float16
        wideLogits = .allocate(capacity: halfOutput ? batch * classes : 0)
    }

    deinit { wideLogits.deallocate() }

    /// Classifies `count` (<= batch) images stored back to back at `pixels`; returns the logits
    /// [batch, classes], valid until the next call.
    public func logits(_ pixels: UnsafePointer<UInt8>, count: Int) -> UnsafePointer<Float> {
        precondition(count >= 0 && count <= batch, "count must be within the batch")
        let n = count * pixelsPerImage
        if halfInput {
            let input = session.inputPointer(0).assumingMemoryBound(to: Float16.self)
            for i in 0..<n { input[i] = Float16(Float(pixels[i]) * (1 / 255)) }
            for i in n..<(batch * pixelsPerImage) { input[i] = 0 }
        } else {
            let input = session.inputPointer(0).assumingMemoryBound(to: Float.self)
            for i in 0..<n { input[i] = Float(pixels[i]) * (1 / 255) }
            for i in n..<(batch * pixelsPerImage) { input[i] = 0 }
        }
        session.run()
        guard halfOutput else { return UnsafePointer(session.outputView(0).f32) }
        let half = session.outputView(0).typed(Float16.self)
        for i in 0..<(batch * classes) { wideLogits[i] = Float(half[i]) }
        return UnsafePointer(wideLogits)
    }

    /// Index of the largest logit of each of the first `count` rows.
    public func predictions(_ logits: UnsafePointer<Float>, count: Int) -> [Int] {
        (0..<count).map { b in
            let row = logits + b * classes
            var best = 0
            for c in 1..<classes where row[c] > row[best] { best = c }
            return best
        }
    }

    /// Number of images of `images` (all of them, in batches) whose prediction equals the label.
    public func correctCount(_ images: IDXImages, _ labels: IDXLabels) -> Int {
        precondition(images.count == labels.count && images.pixelsPerImage == pixelsPerImage)
        var correct = 0
        images.pixels.withUnsafeBufferPointer { px in
            var first = 0
            while first < images.count {
                let n = min(batch, images.count - first)
                let out = logits(px.baseAddress! + first * pixelsPerImage, count: n)
                for (b, p) in predictions(out, count: n).enumerated() where p == Int(labels.labels[first + b]) { correct += 1 }
                first += n
            }
        }
        return correct
    }
}
