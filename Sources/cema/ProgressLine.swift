// Progress for long jobs: a bar redrawn in place on a terminal, plain lines when stderr is a file or pipe.
import Foundation

final class ProgressLine {
    private let total: Int
    private let label: String
    private let start = Date()
    private let interactive = isatty(2) != 0
    private var done = 0

    init(total: Int, label: String) {
        self.total = max(total, 1)
        self.label = label
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    /// One more unit finished; `detail` says what (a stream name, an accuracy).
    func step(_ detail: String) {
        done += 1
        let seconds = elapsed
        let eta = seconds / Double(done) * Double(total - done)
        let counts = "\(done)/\(total)"
        if interactive {
            let width = 24, filled = width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(format: "\r%@ [%@] %@ %@  %.0fs, eta %.0fs", label, bar, counts, detail, seconds, eta)
            FileHandle.standardError.write((line + "\u{1B}[K" + (done == total ? "\n" : "")).data(using: .utf8)!)
        } else {
            FileHandle.standardError.write(String(format: "%@ %@ %@ (%.0fs, eta %.0fs)\n", label, counts, detail, seconds, eta).data(using: .utf8)!)
        }
    }
}
