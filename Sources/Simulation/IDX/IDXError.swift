// Typed errors of the IDX reader and writer, each naming what is wrong and what to do about it.

/// Why an IDX file could not be read or written.
public enum IDXError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist. For the default Fashion-MNIST paths the message names the Debian package.
    case fileNotFound(path: String)
    /// The file exists but could not be opened or read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// A gzip file whose compressed stream is cut short or damaged.
    case corruptGzip(path: String, reason: String)
    /// The first four bytes are not the IDX magic expected for this kind of file.
    case badMagic(path: String, found: UInt32, expected: UInt32)
    /// The header promises more bytes than the file holds.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file holds bytes after the data its header describes (probably not an IDX file of this kind).
    case trailingData(path: String, expectedBytes: Int, actualBytes: Int)
    /// The image file and the label file describe different numbers of samples.
    case countMismatch(images: Int, labels: Int)
    /// Images of a size the consumer cannot handle (the corruptions need 28x28).
    case unsupportedImageSize(rows: Int, columns: Int, expectedRows: Int, expectedColumns: Int)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            if path.hasPrefix(FashionMNIST.defaultDirectory) {
                return "IDX file not found: \(path) (install Fashion-MNIST with `apt-get install dataset-fashion-mnist`)"
            }
            return "IDX file not found: \(path) (the default data set comes from `apt-get install dataset-fashion-mnist`)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .corruptGzip(let path, let reason):
            return "damaged or truncated gzip stream in \(path): \(reason)"
        case .badMagic(let path, let found, let expected):
            return "\(path) is not the expected IDX file: magic number 0x\(hex(found)), expected 0x\(hex(expected))"
        case .truncated(let path, let expected, let actual):
            return "\(path) is truncated: its header describes \(expected) bytes but the file holds \(actual)"
        case .trailingData(let path, let expected, let actual):
            return "\(path) has \(actual - expected) bytes after the \(expected) its header describes"
        case .countMismatch(let images, let labels):
            return "the image file holds \(images) images but the label file holds \(labels) labels"
        case .unsupportedImageSize(let rows, let columns, let expectedRows, let expectedColumns):
            return "images are \(rows)x\(columns); \(expectedRows)x\(expectedColumns) grayscale images are required"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
