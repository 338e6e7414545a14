// `cema simulate --report DIR`: report.md (summary and per-corruption tables) and the SVG plots it links.
import Foundation

public struct SimulationReport {
    public var results: [StreamResult]
    /// Free text placed under the title: the command line, models, seed, hyperparameters.
    public var preamble: [String]

    public init(results: [StreamResult], preamble: [String]) {
        self.results = results
        self.preamble = preamble
    }

    var methods: [Method] { Method.allCases.filter { m in results.contains { $0.method == m } } }
    var streams: [(Corruption, Int)] {
        var seen: [(Corruption, Int)] = []
        for r in results where !seen.contains(where: { $0 == (r.corruption, r.severity) }) { seen.append((r.corruption, r.severity)) }
        return seen
    }

    func result(_ m: Method, _ c: Corruption, _ s: Int) -> StreamResult? {
        results.first { $0.method == m && $0.corruption == c && $0.severity == s }
    }

    func of(_ m: Method) -> [StreamResult] { results.filter { $0.method == m } }

    /// Mean over streams of a per-stream figure.
    func mean(_ m: Method, _ f: (StreamResult) -> Double) -> Double {
        let rs = of(m)
        return rs.isEmpty ? 0 : rs.map(f).reduce(0, +) / Double(rs.count)
    }

    func total(_ m: Method, _ f: (StreamResult) -> Int) -> Int { of(m).map(f).reduce(0, +) }

    /// The summary table: one row per method.
    public func summaryTable() -> String {
        var lines = ["| method | mean accuracy % | uploaded % of stream | EATA rule alone % | bytes up | bytes down | patches | device backward passes | cloud steps |",
                     "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for m in methods {
            let eataRule = m.usesCloud ? percent(mean(m) { $0.eataRuleShare }) : ""
            lines.append("| \(m.rawValue) | \(percent(mean(m) { $0.accuracy })) | \(percent(mean(m) { $0.uploadShare })) | \(eataRule) | "
                + "\(byteText(total(m) { $0.bytesUp })) | \(byteText(total(m) { $0.bytesDown })) | \(total(m) { $0.patches }) | "
                + "\(total(m) { $0.backwardSamples }) | \(total(m) { $0.cloudSteps }) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Per-stream accuracy (and upload share where samples are uploaded) of every method.
    public func streamTable(_ value: (StreamResult) -> Double, only: (Method) -> Bool = { _ in true }) -> String {
        let ms = methods.filter(only)
        var lines = ["| stream | " + ms.map(\.rawValue).joined(separator: " | ") + " |",
                     "| --- | " + ms.map { _ in "---:" }.joined(separator: " | ") + " |"]
        for (c, s) in streams {
            lines.append("| \(c.rawValue) s\(s) | " + ms.map { m in result(m, c, s).map { percent(value($0)) } ?? "" }.joined(separator: " | ") + " |")
        }
        lines.append("| **mean** | " + ms.map { m in "**\(percent(mean(m, value)))**" }.joined(separator: " | ") + " |")
        return lines.joined(separator: "\n")
    }

    public func markdown() -> String {
        var md = ["# CEMA simulation report", ""] + preamble.map { "- \($0)" } + [""]
        md += ["## Summary", "", summaryTable(), "",
               "Bytes are the encoded protobuf messages (UploadBatch up, ParameterPatch down), exactly what would cross the wire. "
                   + "Device backward passes count samples that went through a backward pass on the device; CEMA's device only runs forward. "
                   + "\"EATA rule alone\" is the share EATA's reliability rule (entropy below the fixed E_max0) would have uploaded from "
                   + "the same predictions.", "",
               "![accuracy per stream](accuracy.svg)", "", "![uploads per stream](uploads.svg)", "",
               "## Accuracy per stream (%)", "", streamTable { $0.accuracy }, "",
               "## Uploaded share of each stream (%)", "", streamTable({ $0.uploadShare }, only: { $0.usesCloud }), "",
               "## Over the stream", "", "![accuracy over the stream](accuracy-over-stream.svg)", "",
               "![E_max and upload rate](selection-over-stream.svg)", "",
               "## Communication and device compute", "", "![bytes](bytes.svg)", "", "![device compute](device-compute.svg)", ""]
        let cema = of(.cema)
        if !cema.isEmpty {
            md += ["## CEMA's selection rules", "", "| stream | seen | uploaded | unreliable (H >= E_max) | low-information (H <= E_min) | redundant |",
                   "| --- | ---: | ---: | ---: | ---: | ---: |"]
            for r in cema {
                md.append("| \(r.corruption.rawValue) s\(r.severity) | \(r.samples) | \(r.uploaded) | \(r.excludedUnreliable) | \(r.excludedLowInformation) | \(r.excludedRedundant) |")
            }
            md.append("")
        }
        return md.joined(separator: "\n")
    }

    /// Writes report.md and the plots into `directory` (created if missing); returns the report's path.
    public func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files: [(String, String)] = [("report.md", markdown())] + plots()
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
        return URL(fileURLWithPath: directory).appendingPathComponent("report.md").path
    }

    func plots() -> [(String, String)] {
        let groups = streams.map { "\($0.0.rawValue) s\($0.1)" }
        let ms = methods
        func grid(_ only: [Method], _ f: (StreamResult) -> Double) -> [[Double]] {
            streams.map { (c, s) in only.map { m in result(m, c, s).map(f) ?? 0 } }
        }
        var out: [(String, String)] = []
        out.append(("accuracy.svg", SVGChart(title: "Accuracy per stream", xLabel: "stream", yLabel: "accuracy (%)", yRange: 0...100)
            .bars(groups: groups, series: ms.map(\.rawValue), values: grid(ms) { $0.accuracy * 100 })))
        let cloud = ms.filter(\.usesCloud)
        out.append(("uploads.svg", SVGChart(title: "Samples uploaded per stream", xLabel: "stream", yLabel: "uploaded (% of stream)", yRange: 0...100)
            .bars(groups: groups, series: cloud.map(\.rawValue), values: grid(cloud) { $0.uploadShare * 100 })))
        // Over the stream: streams laid end to end, x = samples seen in the run.
        func laidOut(_ m: Method, _ y: (TimelinePoint) -> Double?) -> SVGChart.Series {
            var offset = 0, points: [(x: Double, y: Double)] = []
            for r in of(m) {
                for p in r.timeline { if let v = y(p) { points.append((Double(offset + p.seen), v)) } }
                offset += r.samples
            }
            return .init(name: m.rawValue, points: points)
        }
        out.append(("accuracy-over-stream.svg", SVGChart(title: "Accuracy so far in each stream (streams end to end)", xLabel: "samples seen", yLabel: "accuracy (%)", yRange: 0...100)
            .lines(ms.map { m in laidOut(m) { $0.cumulativeAccuracy * 100 } })))
        var selection: [SVGChart.Series] = []
        for m in cloud {
            selection.append(laidOut(m) { $0.uploadRate * 100 })
            selection[selection.count - 1].name = "\(m.rawValue) upload rate (%)"
        }
        if ms.contains(.cema) {
            var gate = laidOut(.cema) { $0.eMax.map { $0 * 100 } }
            gate.name = "cema E_max(t) x 100 (nats)"
            selection.append(gate)
        }
        out.append(("selection-over-stream.svg", SVGChart(title: "Upload rate per batch and CEMA's gate E_max(t)", xLabel: "samples seen", yLabel: "% / nats x 100")
            .lines(selection)))
        out.append(("bytes.svg", SVGChart(title: "Bytes over the network (whole run)", xLabel: "method", yLabel: "kB")
            .bars(groups: ms.map(\.rawValue), series: ["up (UploadBatch)", "down (ParameterPatch)"],
                  values: ms.map { m in [Double(total(m) { $0.bytesUp }) / 1000, Double(total(m) { $0.bytesDown }) / 1000] })))
        out.append(("device-compute.svg", SVGChart(title: "Device compute (whole run)", xLabel: "method", yLabel: "samples")
            .bars(groups: ms.map(\.rawValue), series: ["forward", "forward + backward"],
                  values: ms.map { m in [Double(total(m) { $0.forwardSamples }), Double(total(m) { $0.backwardSamples })] })))
        return out
    }
}

func byteText(_ n: Int) -> String {
    if n >= 10_000_000 { return "\(n / 1_000_000) MB" }
    if n >= 10_000 { return "\(n / 1000) kB" }
    return "\(n) B"
}
