// The frames one simulated device sees on one stream: a seeded permutation of the corrupted test set, cut to
// whole edge batches so every batch has the same size (batch statistics need it).

public struct DeviceStream: Sendable {
    public let pixels: [UInt8]
    public let labels: [UInt8]
    public let pixelsPerImage: Int
    public var count: Int { labels.count }

    /// Device `device` of a fleet draws `samples` frames (rounded down to whole batches) of `shifted`
    /// in an order that depends only on (seed, stream, device).
    public init(shifted: IDXImages, labels: IDXLabels, samples: Int, batch: Int, device: Int, seed: UInt64, streamKey: UInt64) {
        let n = min(samples, shifted.count) / batch * batch
        var order = Array(0..<shifted.count)
        var rng = SeededGenerator(seed: seed &+ streamKey &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(device) &* 0xD1B5_4A32_D192_ED03)
        order.shuffle(using: &rng)
        let size = shifted.pixelsPerImage
        var px = [UInt8](repeating: 0, count: n * size), lb = [UInt8](repeating: 0, count: n)
        for (k, i) in order.prefix(n).enumerated() {
            for p in 0..<size { px[k * size + p] = shifted.pixels[i * size + p] }
            lb[k] = labels.labels[i]
        }
        pixels = px
        self.labels = lb
        pixelsPerImage = size
    }

    /// Frames [first, first + count) back to back.
    public func frames(_ first: Int, _ count: Int) -> ArraySlice<UInt8> {
        pixels[(first * pixelsPerImage)..<((first + count) * pixelsPerImage)]
    }
}
