// The device's half of the upload: selected frames and the selector's counters as cema.UploadBatch bytes,
// encoded by protobuf-c (the same code on the board and in the host simulation).
import CEdgeShim

public struct UploadSample {
    /// Frame shape without a batch axis, e.g. [1, 28, 28].
    public var dims: [Int]
    /// uint8 pixels, row-major.
    public var pixels: [UInt8]
    public var entropy: Float

    public init(dims: [Int], pixels: [UInt8], entropy: Float) {
        self.dims = dims
        self.pixels = pixels
        self.entropy = entropy
    }
}

public enum UploadEncoder {
    /// Encodes one upload. Returns nil only when protobuf-c cannot allocate the output.
    public static func encode(deviceID: String, sequence: UInt64, samples: [UploadSample],
                              counters: SelectionCounters) -> [UInt8]? {
        var message = Cema__UploadBatch()
        cema__upload_batch__init(&message)
        var cCounters = Cema__SelectionCounters()
        cema__selection_counters__init(&cCounters)
        cCounters.seen = UInt64(counters.seen)
        cCounters.uploaded = UInt64(counters.selected)
        cCounters.excluded_unreliable = UInt64(counters.excludedUnreliable)
        cCounters.excluded_low_information = UInt64(counters.excludedLowInformation)
        cCounters.excluded_redundant = UInt64(counters.excludedRedundant)

        // C copies of everything the message points to, freed after packing.
        let n = samples.count
        let cSamples = UnsafeMutablePointer<Cema__Sample>.allocate(capacity: max(n, 1))
        let sampleList = UnsafeMutablePointer<UnsafeMutablePointer<Cema__Sample>?>.allocate(capacity: max(n, 1))
        var buffers: [UnsafeMutableRawPointer] = []
        defer {
            for b in buffers { b.deallocate() }
            sampleList.deallocate()
            cSamples.deallocate()
        }
        for (i, s) in samples.enumerated() {
            cema__sample__init(cSamples + i)
            let dims = UnsafeMutablePointer<Int64>.allocate(capacity: max(s.dims.count, 1))
            for (k, d) in s.dims.enumerated() { dims[k] = Int64(d) }
            let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: max(s.pixels.count, 1))
            for (k, p) in s.pixels.enumerated() { pixels[k] = p }
            buffers.append(UnsafeMutableRawPointer(dims))
            buffers.append(UnsafeMutableRawPointer(pixels))
            cSamples[i].n_dims = s.dims.count
            cSamples[i].dims = dims
            cSamples[i].kind = CEMA__PIXEL_KIND__PIXEL_KIND_UINT8
            cSamples[i].pixels = ProtobufCBinaryData(len: s.pixels.count, data: pixels)
            cSamples[i].edge_entropy = s.entropy
            sampleList[i] = cSamples + i
        }
        message.sequence = sequence
        message.n_samples = n
        message.samples = n > 0 ? sampleList : nil

        var utf8 = Array(deviceID.utf8)
        utf8.append(0)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        let status: Int32 = utf8.withUnsafeMutableBufferPointer { id in
            id.withMemoryRebound(to: CChar.self) { chars in
                message.device_id = chars.baseAddress
                return withUnsafeMutablePointer(to: &cCounters) { counters in
                    message.counters = counters
                    return cedge_upload_batch_pack(&message, &out, &length)
                }
            }
        }
        guard status == 0, let out else { return nil }
        defer { cedge_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}
