// FMNIST-C generation: whole data sets corrupted deterministically for (corruption, severity, seed), in parallel.
import Dispatch

/// Corrupts images so that image i of (corruption, severity) depends only on (seed, corruption, severity, i):
/// any subset, in any order, on any number of threads, gives the same bytes.
public struct CorruptionSuite: Sendable {
    public let seed: UInt64

    public init(seed: UInt64 = 0) {
        self.seed = seed
    }

    /// The generator image `index` of a (corruption, severity) stream draws from.
    public func generator(_ corruption: Corruption, severity: Int, index: Int) -> SeededGenerator {
        SeededGenerator(seed: SeededGenerator.streamSeed(seed: seed, corruption: corruption.index, severity: severity, index: index))
    }

    /// One 28x28 image, as image `index` of the stream.
    public func corrupt(_ image: [UInt8], _ corruption: Corruption, severity: Int, index: Int) -> [UInt8] {
        var rng = generator(corruption, severity: severity, index: index)
        return corruption.apply(image, severity: severity, rng: &rng)
    }

    /// All images (28x28), spread over the available cores. Image i of `images` is treated as stream index
    /// `firstIndex + i`, so a slice of a data set corrupts to the same bytes as the whole.
    public func corrupt(_ images: IDXImages, _ corruption: Corruption, severity: Int, firstIndex: Int = 0) -> IDXImages {
        precondition(images.rows == Geometry.side && images.columns == Geometry.side, "corruptions work on 28x28 images")
        let size = images.pixelsPerImage, count = images.count
        var output = [UInt8](repeating: 0, count: images.pixels.count)
        let chunk = 32
        let chunks = (count + chunk - 1) / chunk
        images.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                // Chunks write disjoint ranges; the base address is passed as an integer to keep the closure Sendable.
                let src = UInt(bitPattern: source.baseAddress), dst = UInt(bitPattern: destination.baseAddress)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let input = UnsafePointer<UInt8>(bitPattern: src)!, out = UnsafeMutablePointer<UInt8>(bitPattern: dst)!
                    for i in (c * chunk)..<min((c + 1) * chunk, count) {
                        let image = Array(UnsafeBufferPointer(start: input + i * size, count: size))
                        let corrupted = corrupt(image, corruption, severity: severity, index: firstIndex + i)
                        corrupted.withUnsafeBufferPointer { (out + i * size).update(from: $0.baseAddress!, count: size) }
                    }
                }
            }
        }
        return IDXImages(count: count, rows: images.rows, columns: images.columns, pixels: output)
    }

    /// A labelled data set; labels are unchanged.
    public func corrupt(_ dataset: IDXDataset, _ corruption: Corruption, severity: Int) -> IDXDataset {
        try! IDXDataset(images: corrupt(dataset.images, corruption, severity: severity), labels: dataset.labels)
    }
}
