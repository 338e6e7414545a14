// Where a board daemon's frames come from: a plain IDX image file (as `cema corrupt` writes), raw frames
// back to back on stdin (a camera pipeline), or a directory of raw frame files (one per file, in name order).
// A frame is rows * columns uint8 pixels. gzip is not read here: boards may lack zlib, so .gz files are
// refused with a hint.
import CEdgeShim

public enum ImageStreamError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notIDX(path: String, reason: String)
    case gzipped(path: String)
    case frameSize(path: String, bytes: Int, expected: Int)
    case labelsMismatch(images: Int, labels: Int)
    case emptyDirectory(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .notIDX(let path, let reason): return "\(path) is not an IDX file: \(reason)"
        case .gzipped(let path): return "\(path) is gzip-compressed; unpack it first (gunzip -k), the board reads plain IDX"
        case .frameSize(let path, let bytes, let expected): return "\(path) holds \(bytes) bytes, a frame is \(expected)"
        case .labelsMismatch(let images, let labels): return "\(images) images but \(labels) labels"
        case .emptyDirectory(let path): return "\(path) holds no frame files"
        }
    }
}

/// IDX files: a big-endian magic (0x0803 images, 0x0801 labels), the dimensions, then uint8 data.
public enum IDXFile {
    /// Images of an IDX image file: (count, rows, columns, pixels).
    public static func images(_ path: String) throws(ImageStreamError) -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        let bytes = try read(path)
        let dims = try header(bytes, path: path, magic: 0x0803, dimensions: 3)
        return (dims[0], dims[1], dims[2], Array(bytes[16...]))
    }

    public static func labels(_ path: String) throws(ImageStreamError) -> [UInt8] {
        let bytes = try read(path)
        _ = try header(bytes, path: path, magic: 0x0801, dimensions: 1)
        return Array(bytes[8...])
    }

    static func read(_ path: String) throws(ImageStreamError) -> [UInt8] {
        do { return try readFile(path) } catch { throw .unreadable(path: path, reason: error.description) }
    }

    static func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws(ImageStreamError) -> [Int] {
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { throw .gzipped(path: path) }
        func be32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        let headerBytes = 4 + 4 * dimensions
        guard bytes.count >= headerBytes else { throw .notIDX(path: path, reason: "\(bytes.count) bytes, shorter than its header") }
        let found = be32(0)
        guard found == magic else {
            throw .notIDX(path: path, reason: "magic \(CRC32.hex(found)), expected \(CRC32.hex(magic))")
        }
        var dims: [Int] = []
        var total = 1
        for k in 0..<dimensions {
            let d = Int(be32(4 + 4 * k))
            dims.append(d)
            total = total.multipliedReportingOverflow(by: d).partialValue
        }
        guard bytes.count - headerBytes == total else {
            throw .notIDX(path: path, reason: "the header announces \(total) data bytes, the file holds \(bytes.count - headerBytes)")
        }
        return dims
    }
}

public final class ImageStream {
    public enum Source {
        case idx(pixels: [UInt8], count: Int)
        case stdin
        case directory(path: String, names: [String])
    }

    public let frameBytes: Int
    public let source: Source
    /// Frames handed out so far.
    public private(set) var position = 0
    public private(set) var finished = false
    private var pending: [UInt8] = []

    /// `path`: an IDX image file, "-" for stdin, or a directory of raw frames.
    public init(path: String, rows: Int, columns: Int) throws(ImageStreamError) {
        frameBytes = rows * columns
        if path == "-" {
            source = .stdin
        } else if cedge_is_directory(path) == 1 {
            let names = listDirectory(path)
            if names.isEmpty { throw .emptyDirectory(path: path) }
            source = .directory(path: path, names: names)
        } else {
            let idx = try IDXFile.images(path)
            guard idx.rows * idx.columns == frameBytes else {
                throw .frameSize(path: path, bytes: idx.rows * idx.columns, expected: frameBytes)
            }
            source = .idx(pixels: idx.pixels, count: idx.count)
        }
    }

    /// Up to `maximum` frames appended to `out`, waiting at most `waitMs` for stdin; returns how many.
    /// 0 with `finished` false means "nothing yet" (stdin idle).
    public func next(_ maximum: Int, into out: inout [UInt8], waitMs: Int = 100) throws(ImageStreamError) -> Int {
        if finished { return 0 }
        switch source {
        case .idx(let pixels, let count):
            let n = min(maximum, count - position)
            out.append(contentsOf: pixels[(position * frameBytes)..<((position + n) * frameBytes)])
            position += n
            if position == count { finished = true }
            return n
        case .directory(let path, let names):
            var n = 0
            while n < maximum && position < names.count {
                let file = path + "/" + names[position]
                let bytes = try IDXFile.read(file)
                if bytes.count != frameBytes { throw .frameSize(path: file, bytes: bytes.count, expected: frameBytes) }
                out.append(contentsOf: bytes)
                position += 1
                n += 1
            }
            if position == names.count { finished = true }
            return n
        case .stdin:
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while pending.count < maximum * frameBytes {
                let got = buffer.withUnsafeMutableBufferPointer { cedge_fd_read(0, $0.baseAddress, $0.count, Int32(waitMs)) }
                if got == 0 { break }
                if got < 0 {
                    // End of input; a trailing partial frame is dropped (a frame is all or nothing).
                    if got != -32 { printError("edge-agent: stdin: \(String(cString: cedge_error_text(Int32(-got))))") }
                    finished = true
                    break
                }
                pending.append(contentsOf: buffer[0..<got])
            }
            let n = min(maximum, pending.count / frameBytes)
            out.append(contentsOf: pending[0..<(n * frameBytes)])
            pending.removeFirst(n * frameBytes)
            position += n
            return n
        }
    }
}
