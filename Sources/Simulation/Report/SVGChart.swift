// Small, dependency-free SVG charts for the simulation report: line charts and grouped bar charts with axes,
// ticks, a legend and a title. Readable as opened in a browser or rendered to PNG.
import Foundation

public struct SVGChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width = 720.0
    public var height = 400.0
    /// Fixed y range (e.g. 0...100 for accuracy); nil fits the data.
    public var yRange: ClosedRange<Double>?

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]
    let left = 70.0, top = 40.0
    /// Room for the legend, sized to its longest name, and for the x labels (rotated group names need more).
    var right = 170.0
    var bottom = 60.0

    public init(title: String, xLabel: String, yLabel: String, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yRange = yRange
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    mutating func fitLegend(_ names: [String]) {
        right = 40 + 7 * Double(names.map(\.count).max() ?? 10)
        width = max(width, left + 420 + right)
    }

    /// Line chart: one polyline per series, in palette order.
    public func lines(_ series: [Series]) -> String {
        var chart = self
        chart.fitLegend(series.map(\.name))
        return chart.drawLines(series)
    }

    func drawLines(_ series: [Series]) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xr = niceRange(xs.min() ?? 0, xs.max() ?? 1), yr = yRange ?? niceRange(ys.min() ?? 0, ys.max() ?? 1)
        var svg = header() + axes(xRange: xr, yRange: yr, xTicks: ticks(xr))
        for (k, s) in series.enumerated() {
            let color = Self.palette[k % Self.palette.count]
            let path = s.points.map { "\(fmt(px($0.x, xr))),\(fmt(py($0.y, yr)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            if s.points.count == 1, let p = s.points.first {
                svg += "<circle cx=\"\(fmt(px(p.x, xr)))\" cy=\"\(fmt(py(p.y, yr)))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
        }
        return svg + legend(series.map(\.name)) + "</svg>\n"
    }

    /// Grouped bars: `values[g][s]` is series s in group g (groups along x, labelled by `groups`).
    public func bars(groups: [String], series: [String], values: [[Double]]) -> String {
        var chart = self
        chart.fitLegend(series)
        chart.bottom = 50 + 4.5 * Double(groups.map(\.count).max() ?? 4)
        chart.height = max(height, chart.top + 260 + chart.bottom)
        return chart.drawBars(groups: groups, series: series, values: values)
    }

    func drawBars(groups: [String], series: [String], values: [[Double]]) -> String {
        let all = values.flatMap { $0 }
        let yr = yRange ?? niceRange(min(0, all.min() ?? 0), all.max() ?? 1)
        var svg = header() + axes(xRange: nil, yRange: yr, xTicks: [])
        let groupWidth = plotWidth / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (g, name) in groups.enumerated() {
            let x0 = left + Double(g) * groupWidth + groupWidth * 0.1
            for s in 0..<series.count where s < values[g].count {
                let v = values[g][s], y = py(v, yr), base = py(max(yr.lowerBound, 0), yr)
                svg += "<rect x=\"\(fmt(x0 + Double(s) * barWidth))\" y=\"\(fmt(min(y, base)))\" width=\"\(fmt(barWidth * 0.92))\" "
                    + "height=\"\(fmt(abs(base - y)))\" fill=\"\(Self.palette[s % Self.palette.count])\"><title>\(escape(name)) \(escape(series[s])): \(fmt(v))</title></rect>\n"
            }
            let cx = x0 + groupWidth * 0.4, cy = top + plotHeight + 12
            svg += "<text x=\"\(fmt(cx))\" y=\"\(fmt(cy))\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-35 \(fmt(cx)) \(fmt(cy)))\">\(escape(name))</text>\n"
        }
        return svg + legend(series) + "</svg>\n"
    }

    // MARK: - pieces

    func header() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(fmt(left + plotWidth / 2))\" y=\"22\" font-size=\"15\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(title))</text>\n"
    }

    func axes(xRange: ClosedRange<Double>?, yRange: ClosedRange<Double>, xTicks: [Double]) -> String {
        let x1 = left + plotWidth, y1 = top + plotHeight
        var s = "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotWidth))\" height=\"\(fmt(plotHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
        for t in ticks(yRange) {
            let y = py(t, yRange)
            s += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x1))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" font-size=\"11\" text-anchor=\"end\">\(tickText(t))</text>\n"
        }
        if let xRange {
            for t in xTicks {
                let x = px(t, xRange)
                s += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x))\" y2=\"\(fmt(y1 + 5))\" stroke=\"#444\"/>\n"
                s += "<text x=\"\(fmt(x))\" y=\"\(fmt(y1 + 18))\" font-size=\"11\" text-anchor=\"middle\">\(tickText(t))</text>\n"
            }
        }
        s += "<text x=\"\(fmt(left + plotWidth / 2))\" y=\"\(fmt(height - 8))\" font-size=\"12\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text x=\"16\" y=\"\(fmt(top + plotHeight / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(fmt(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        return s
    }

    func legend(_ names: [String]) -> String {
        var s = ""
        for (k, name) in names.enumerated() {
            let y = top + 10 + Double(k) * 18, x = left + plotWidth + 14
            s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y - 9))\" width=\"12\" height=\"12\" fill=\"\(Self.palette[k % Self.palette.count])\"/>\n"
            s += "<text x=\"\(fmt(x + 18))\" y=\"\(fmt(y + 1))\" font-size=\"12\">\(escape(name))</text>\n"
        }
        return s
    }

    func px(_ x: Double, _ r: ClosedRange<Double>) -> Double { left + (x - r.lowerBound) / span(r) * plotWidth }
    func py(_ y: Double, _ r: ClosedRange<Double>) -> Double { top + plotHeight - (y - r.lowerBound) / span(r) * plotHeight }
    func span(_ r: ClosedRange<Double>) -> Double { max(r.upperBound - r.lowerBound, 1e-12) }

    /// Range widened to round tick steps (1, 2 or 5 times a power of ten).
    func niceRange(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        if hi <= lo { return (lo - 1)...(lo + 1) }
        let step = tickStep(hi - lo)
        return ((lo / step).rounded(.down) * step)...((hi / step).rounded(.up) * step)
    }

    func tickStep(_ extent: Double) -> Double {
        let raw = extent / 5
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where p * m >= raw { return p * m }
        return p * 10
    }

    func ticks(_ r: ClosedRange<Double>) -> [Double] {
        let step = tickStep(span(r))
        var t = (r.lowerBound / step).rounded(.up) * step, out: [Double] = []
        while t <= r.upperBound + step * 1e-9 { out.append(t); t += step }
        return out
    }

    func tickText(_ v: Double) -> String {
        if abs(v) >= 1e6 { return fmt(v / 1e6) + "M" }
        if abs(v) >= 1e4 { return fmt(v / 1e3) + "k" }
        return fmt(v)
    }
}

/// Shortest plain decimal with at most 3 decimals (no exponent), for SVG coordinates and labels.
func fmt(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    let scaled = (v * 1000).rounded() / 1000
    var s = String(scaled)
    if s.contains("e") { s = String(Int(v.rounded())) }
    return s
}

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
