// IDX (MNIST format) images and labels: parsing, validation, and the Fashion-MNIST default paths.

/// A stack of uint8 grayscale images, row-major, one image after another.
public struct IDXImages: Equatable, Sendable {
    /// Magic of an unsigned-byte (0x08), three-dimensional IDX file.
    public static let magic: UInt32 = 0x0000_0803

    public let count: Int
    public let rows: Int
    public let columns: Int
    public var pixels: [UInt8]

    public init(count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        precondition(pixels.count == count * rows * columns, "pixel buffer does not match count x rows x columns")
        self.count = count
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
    }

    public var pixelsPerImage: Int { rows * columns }

    public func image(at index: Int) -> [UInt8] {
        Array(pixels[index * pixelsPerImage..<(index + 1) * pixelsPerImage])
    }

    /// Parses an IDX image file's bytes; `path` only labels errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(IDXError) -> IDXImages {
        let dims = try header(bytes, path: path, magic: magic, dimensions: 3)
        // A damaged header can promise up to 2^96 bytes; saturate instead of trapping on overflow.
        let (partial, o1) = dims[0].multipliedReportingOverflow(by: dims[1])
        let (body, o2) = partial.multipliedReportingOverflow(by: dims[2])
        try checkLength(bytes, headerBytes: 16, bodyBytes: o1 || o2 ? Int.max - 16 : body, path: path)
        return IDXImages(count: dims[0], rows: dims[1], columns: dims[2], pixels: Array(bytes[16...]))
    }

    public static func read(_ path: String) throws(IDXError) -> IDXImages {
        try parse(try FileBytes.read(path), path: path)
    }

    public func encoded() -> [UInt8] {
        idxHeader(magic: IDXImages.magic, dimensions: [count, rows, columns]) + pixels
    }

    /// Writes the IDX file, gzip-compressed when `path` ends in `.gz`.
    public func write(to path: String) throws(IDXError) {
        try FileBytes.write(encoded(), to: path)
    }
}

/// One uint8 label per sample.
public struct IDXLabels: Equatable, Sendable {
    /// Magic of an unsigned-byte (0x08), one-dimensional IDX file.
    public static let magic: UInt32 = 0x0000_0801

    public var labels: [UInt8]

    public init(_ labels: [UInt8]) { self.labels = labels }

    public var count: Int { labels.count }

    public static func parse(_ bytes: [UInt8], path: String) throws(IDXError) -> IDXLabels {
        let dims = try header(bytes, path: path, magic: magic, dimensions: 1)
        try checkLength(bytes, headerBytes: 8, bodyBytes: dims[0], path: path)
        return IDXLabels(Array(bytes[8...]))
    }

    public static func read(_ path: String) throws(IDXError) -> IDXLabels {
        try parse(try FileBytes.read(path), path: path)
    }

    public func encoded() -> [UInt8] {
        idxHeader(magic: IDXLabels.magic, dimensions: [labels.count]) + labels
    }

    public func write(to path: String) throws(IDXError) {
        try FileBytes.write(encoded(), to: path)
    }
}

/// An image file and its label file, checked to describe the same samples.
public struct IDXDataset: Equatable, Sendable {
    public var images: IDXImages
    public var labels: IDXLabels

    public init(images: IDXImages, labels: IDXLabels) throws(IDXError) {
        guard images.count == labels.count else {
            throw .countMismatch(images: images.count, labels: labels.count)
        }
        self.images = images
        self.labels = labels
    }

    public var count: Int { images.count }

    /// Reads any IDX image/label pair, gzip-compressed or plain.
    public static func load(images imagesPath: String, labels labelsPath: String) throws(IDXError) -> IDXDataset {
        try IDXDataset(images: try IDXImages.read(imagesPath), labels: try IDXLabels.read(labelsPath))
    }

    /// The first `count` samples (all of them when `count` is nil or larger than the set).
    public func prefix(_ count: Int?) -> IDXDataset {
        guard let count, count < self.count else { return self }
        let kept = IDXImages(count: count, rows: images.rows, columns: images.columns,
                             pixels: Array(images.pixels[0..<count * images.pixelsPerImage]))
        return try! IDXDataset(images: kept, labels: IDXLabels(Array(labels.labels[0..<count])))
    }

    /// Fails unless the images are `rows` x `columns` (the corruption suite works at 28x28).
    public func requireImageSize(rows: Int, columns: Int) throws(IDXError) {
        guard images.rows == rows, images.columns == columns else {
            throw .unsupportedImageSize(rows: images.rows, columns: images.columns,
                                        expectedRows: rows, expectedColumns: columns)
        }
    }

    public func write(images imagesPath: String, labels labelsPath: String) throws(IDXError) {
        try images.write(to: imagesPath)
        try labels.write(to: labelsPath)
    }
}

/// Where Debian's `dataset-fashion-mnist` package installs the data set.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let imageSide = 28

    public enum Split: String, CaseIterable, Sendable {
        case train
        case test = "t10k"
    }

    public static func imagesPath(_ split: Split, directory: String = defaultDirectory) -> String {
        "\(directory)/\(split.rawValue)-images-idx3-ubyte.gz"
    }

    public static func labelsPath(_ split: Split, directory: String = defaultDirectory) -> String {
        "\(directory)/\(split.rawValue)-labels-idx1-ubyte.gz"
    }

    /// Loads a split from the Debian package (10,000 test or 60,000 training images, labels 0...9).
    public static func load(_ split: Split = .test, directory: String = defaultDirectory) throws(IDXError) -> IDXDataset {
        try IDXDataset.load(images: imagesPath(split, directory: directory), labels: labelsPath(split, directory: directory))
    }
}

// MARK: - header helpers

/// Validates the magic number and returns the big-endian dimension sizes.
private func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws(IDXError) -> [Int] {
    let headerBytes = 4 + 4 * dimensions
    guard bytes.count >= 4 else { throw .truncated(path: path, expectedBytes: headerBytes, actualBytes: bytes.count) }
    let found = bigEndianWord(bytes, at: 0)
    guard found == magic else { throw .badMagic(path: path, found: found, expected: magic) }
    guard bytes.count >= headerBytes else {
        throw .truncated(path: path, expectedBytes: headerBytes, actualBytes: bytes.count)
    }
    return (0..<dimensions).map { Int(bigEndianWord(bytes, at: 4 + 4 * $0)) }
}

private func checkLength(_ bytes: [UInt8], headerBytes: Int, bodyBytes: Int, path: String) throws(IDXError) {
    let expected = headerBytes + bodyBytes
    if bytes.count < expected { throw .truncated(path: path, expectedBytes: expected, actualBytes: bytes.count) }
    if bytes.count > expected { throw .trailingData(path: path, expectedBytes: expected, actualBytes: bytes.count) }
}

private func bigEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
}

private func idxHeader(magic: UInt32, dimensions: [Int]) -> [UInt8] {
    var out: [UInt8] = []
    for word in [magic] + dimensions.map({ UInt32($0) }) {
        for shift: UInt32 in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: word >> shift)) }
    }
    return out
}
