// Whole-file reads and writes through zlib, so gzip and plain files are handled by the same code.
import CHostCodecs
import Foundation

enum FileBytes {
    /// Reads a file completely. zlib's gzread passes non-gzip files through unchanged, so plain IDX files
    /// and `.gz` ones take the same path.
    static func read(_ path: String) throws(IDXError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "is a directory") }
        guard let file = gzopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { gzclose_r(file) }
        gzbuffer(file, 1 << 17)

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw .corruptGzip(path: path, reason: errorMessage(file)) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(n)])
        }
        // gzread reports a cut-off stream as a clean end of file; gzerror still records it.
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK { throw .corruptGzip(path: path, reason: errorMessage(file)) }
        return bytes
    }

    /// Writes `bytes`, gzip-compressed when the path ends in `.gz`.
    static func write(_ bytes: [UInt8], to path: String) throws(IDXError) {
        if path.hasSuffix(".gz") {
            guard let file = gzopen(path, "wb6") else {
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            let closed = gzclose_w(file)
            if Int(written) != bytes.count || closed != Z_OK {
                throw .writeFailed(path: path, reason: "gzip write failed")
            }
        } else {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } catch {
                throw .writeFailed(path: path, reason: error.localizedDescription)
            }
        }
    }

    private static func errorMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
        return String(cString: message)
    }
}
