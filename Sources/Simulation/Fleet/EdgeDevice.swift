// One simulated board: the shipped edge model in EdgeRuntime (inference form), serving batches, selecting
// uploads with SampleSelector and applying the patches it receives as encoded bytes.
import EdgeRuntime

public enum DeviceError: Error, CustomStringConvertible {
    case patchRejected(device: String, PatchError)
    case uploadEncoding(device: String)

    public var description: String {
        switch self {
        case .patchRejected(let d, let e): return "\(d): patch rejected: \(e)"
        case .uploadEncoding(let d): return "\(d): cannot encode the upload"
        }
    }
}

final class EdgeDevice {
    let id: String
    let model: Model
    let classifier: BatchClassifier
    var selector: SampleSelector
    private(set) var sequence: UInt64 = 0
    let onDevice: OnDeviceAdaptation?

    init(id: String, modelBytes: [UInt8], precision: DevicePrecision, batch: Int, side: Int, selector: SelectorConfig,
         onDevice method: Method?, onDeviceConfig: OnDeviceConfig, fisherImages: IDXImages?) throws {
        self.id = id
        model = try Model(bytes: modelBytes).forDevice(precision)
        classifier = try BatchClassifier(model: model, name: id, batch: batch, rows: side, columns: side)
        self.selector = SampleSelector(classes: classifier.classes, config: selector)
        let graph = model.graph
        onDevice = try method.map { try OnDeviceAdaptation(method: $0, graph: graph, batch: batch, config: onDeviceConfig, fisherImages: fisherImages) }
    }

    /// Logits for a full batch of frames (the on-device methods also adapt on it).
    func serve(_ frames: ArraySlice<UInt8>) throws -> (logits: [Float], backward: Bool) {
        if let onDevice { return try onDevice.step(frames) }
        let logits = frames.withUnsafeBufferPointer { px in
            Array(UnsafeBufferPointer(start: classifier.logits(px.baseAddress!, count: classifier.batch), count: classifier.batch * classifier.classes))
        }
        return (logits, false)
    }

    /// The UploadBatch for the chosen frames, as it would leave the board.
    func upload(_ frames: ArraySlice<UInt8>, chosen: [Bool], entropy: [Float], side: Int) throws -> [UInt8] {
        let size = classifier.pixelsPerImage
        let base = frames.startIndex
        var samples: [UploadSample] = []
        for (i, take) in chosen.enumerated() where take {
            samples.append(UploadSample(dims: [1, side, side], pixels: Array(frames[(base + i * size)..<(base + (i + 1) * size)]), entropy: entropy[i]))
        }
        guard let bytes = UploadEncoder.encode(deviceID: id, sequence: sequence, samples: samples, counters: selector.counters) else {
            throw DeviceError.uploadEncoding(device: id)
        }
        sequence += 1
        return bytes
    }

    /// Decodes and applies a patch; a rejected patch leaves the model unchanged and is an error.
    func apply(patch bytes: [UInt8]) throws {
        do { try model.apply(try PatchDecoder.decode(bytes: bytes)) } catch { throw DeviceError.patchRejected(device: id, error) }
    }
}
