// Accuracy of a classifier on the clean set and on (corruption, severity) streams: the FMNIST-C grid.

public struct AccuracyGrid: Sendable {
    /// Correct predictions out of a stream's images.
    public struct Score: Sendable {
        public var correct: Int
        public var total: Int
        public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
        public init(correct: Int, total: Int) { self.correct = correct; self.total = total }
    }

    public struct Cell: Sendable {
        public var corruption: Corruption
        public var severity: Int
        public var score: Score
        public var accuracy: Double { score.accuracy }
        public init(corruption: Corruption, severity: Int, score: Score) {
            self.corruption = corruption; self.severity = severity; self.score = score
        }
    }

    public var clean: Score?
    public var cells: [Cell] = []

    public init() {}

    public func accuracy(_ corruption: Corruption, _ severity: Int) -> Double? {
        cells.first { $0.corruption == corruption && $0.severity == severity }?.accuracy
    }

    /// Mean over the corruptions evaluated at this severity.
    public func meanAccuracy(severity: Int) -> Double? {
        let row = cells.filter { $0.severity == severity }
        return row.isEmpty ? nil : row.map(\.accuracy).reduce(0, +) / Double(row.count)
    }

    /// Mean over every corrupted cell.
    public var meanCorruptedAccuracy: Double? {
        cells.isEmpty ? nil : cells.map(\.accuracy).reduce(0, +) / Double(cells.count)
    }

    /// Markdown: one row per corruption, one column per severity (percent, one decimal), a mean row.
    public func markdown() -> String {
        let severities = Array(Set(cells.map(\.severity))).sorted()
        let corruptions = Corruption.allCases.filter { c in cells.contains { $0.corruption == c } }
        var lines = ["| corruption | " + severities.map { "s\($0)" }.joined(separator: " | ") + " |",
                     "| --- | " + severities.map { _ in "---:" }.joined(separator: " | ") + " |"]
        for c in corruptions {
            lines.append("| \(c.rawValue) | " + severities.map { s in accuracy(c, s).map(percent) ?? "" }.joined(separator: " | ") + " |")
        }
        lines.append("| **mean** | " + severities.map { s in meanAccuracy(severity: s).map { "**\(percent($0))**" } ?? "" }.joined(separator: " | ") + " |")
        return lines.joined(separator: "\n")
    }
}

public func percent(_ accuracy: Double) -> String {
    let tenths = Int((accuracy * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
