import Foundation

/// A line chart drawn as inline SVG: axes with grid and ticks, one polyline per series,
/// optional markers, and a legend. No scripts, fonts or external references.
public struct SVGChart {
    /// One line of the chart.
    public struct Series {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        /// Points drawn as dots (e.g. the operating threshold); a series of markers alone is a scatter.
        public var markers: [(x: Double, y: Double)] = []
        public var dashed = false
        public var markerRadius = 5.0

        public init(name: String, color: String, points: [(x: Double, y: Double)], markers: [(x: Double, y: Double)] = [],
                    dashed: Bool = false, markerRadius: Double = 5) {
            self.name = name
            self.color = color
            self.points = points
            self.markers = markers
            self.dashed = dashed
            self.markerRadius = markerRadius
        }
    }

    /// The CSS of the chart's classes (part of the HTML report's style; embedded by `standalone`).
    public static let style = """
    .chart-title{font-size:15px;font-weight:600;fill:#1d2939}
    .tick{font-size:11px;fill:#667085}
    .axis-label{font-size:12.5px;fill:#344054}
    .legend-text{font-size:12px;fill:#1d2939}
    .grid{stroke:#e4e7ec;stroke-width:1}
    .grid-minor{stroke:#f2f4f7;stroke-width:1}
    .frame{fill:none;stroke:#98a2b3;stroke-width:1}
    """

    /// The chart as an SVG file of its own: namespace, font and `style` embedded.
    public func standalone() -> String {
        let svg = render()
        let open = svg.firstIndex(of: ">").map { svg.index(after: $0) } ?? svg.startIndex
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + svg[..<open].replacingOccurrences(of: "<svg ", with: "<svg xmlns=\"http://www.w3.org/2000/svg\" ")
            + "<style>text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n\(Self.style)</style>" + svg[open...]
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xRange: ClosedRange<Double> = 0...1
    public var yRange: ClosedRange<Double> = 0...1
    public var series: [Series]
    public var width = 520
    /// Height of the plot area and its axes (the legend below adds to it).
    public var plotHeight = 380

    /// A chart of `series` over `xRange` and `yRange` (the unit square unless given).
    public init(title: String, xLabel: String, yLabel: String, xRange: ClosedRange<Double> = 0...1, yRange: ClosedRange<Double> = 0...1,
                series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
    }

    /// Okabe-Ito colours, distinguishable with colour-vision deficiencies.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933"]

    private let left = 58.0, right = 18.0, top = 40.0, bottom = 52.0
    private let legendLine = 19.0

    /// Height of the whole chart: plot, axes and one legend line per named series.
    var height: Int { plotHeight + Int(legendLine * Double(series.filter { !$0.name.isEmpty }.count)) + 14 }

    private func px(_ x: Double) -> Double {
        left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (Double(width) - left - right)
    }

    private func py(_ y: Double) -> Double {
        Double(plotHeight) - bottom - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (Double(plotHeight) - top - bottom)
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The `<svg>` element.
    public func render() -> String {
        let w = Double(width), h = Double(plotHeight)
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(MarkupText.escaped(title))\">"
        s += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>"
        s += "<text x=\"\(f(left))\" y=\"24\" class=\"chart-title\">\(MarkupText.escaped(title))</text>"
        // Grid and ticks.
        for i in 0...10 {
            let t = Double(i) / 10
            let x = xRange.lowerBound + t * (xRange.upperBound - xRange.lowerBound)
            let y = yRange.lowerBound + t * (yRange.upperBound - yRange.lowerBound)
            let major = i % 2 == 0
            s += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(h - bottom))\" class=\"\(major ? "grid" : "grid-minor")\"/>"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(w - right))\" y2=\"\(f(py(y)))\" class=\"\(major ? "grid" : "grid-minor")\"/>"
            if major {
                s += "<text x=\"\(f(px(x)))\" y=\"\(f(h - bottom + 18))\" class=\"tick\" text-anchor=\"middle\">\(tick(x))</text>"
                s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(y) + 4))\" class=\"tick\" text-anchor=\"end\">\(tick(y))</text>"
            }
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(w - left - right))\" height=\"\(f(h - top - bottom))\" class=\"frame\"/>"
        s += "<text x=\"\(f((left + w - right) / 2))\" y=\"\(f(h - 12))\" class=\"axis-label\" text-anchor=\"middle\">\(MarkupText.escaped(xLabel))</text>"
        s += "<text x=\"16\" y=\"\(f((top + h - bottom) / 2))\" class=\"axis-label\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f((top + h - bottom) / 2)))\">\(MarkupText.escaped(yLabel))</text>"
        // Series, clipped to the plot area.
        s += "<clipPath id=\"clip-\(clipID)\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(w - left - right))\" height=\"\(f(h - top - bottom))\"/></clipPath>"
        s += "<g clip-path=\"url(#clip-\(clipID))\">"
        for line in series where !line.points.isEmpty || !line.markers.isEmpty {
            let path = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            if !line.points.isEmpty { s += "<polyline class=\"series\" data-series=\"\(MarkupText.escaped(line.name))\" points=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2.2\" stroke-linejoin=\"round\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>" }
            for m in line.markers {
                s += "<circle cx=\"\(f(px(m.x)))\" cy=\"\(f(py(m.y)))\" r=\"\(f(line.markerRadius))\" fill=\"\(line.color)\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>"
            }
        }
        s += "</g>"
        s += legendSVG()
        s += "</svg>"
        return s
    }

    /// A stable id for the clip path, unique per chart content.
    private var clipID: String {
        var hash: UInt64 = 1469598103934665603
        for b in (title + series.map(\.name).joined()).utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        return String(hash % 1_000_000_007, radix: 36)
    }

    private func tick(_ v: Double) -> String {
        let span = xRange.upperBound - xRange.lowerBound
        return span >= 2 ? String(format: "%.0f", v) : String(format: "%.1f", v)
    }

    /// The legend below the x-axis label: one line per named series.
    private func legendSVG() -> String {
        let shown = series.filter { !$0.name.isEmpty }
        var s = "<g class=\"legend\">"
        for (i, line) in shown.enumerated() {
            let y = Double(plotHeight) + 8 + Double(i) * legendLine
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y - 4))\" x2=\"\(f(left + 22))\" y2=\"\(f(y - 4))\" stroke=\"\(line.color)\" stroke-width=\"3\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            if !line.markers.isEmpty {
                s += "<circle cx=\"\(f(left + 11))\" cy=\"\(f(y - 4))\" r=\"4\" fill=\"\(line.color)\" stroke=\"#ffffff\" stroke-width=\"1.2\"/>"
            }
            s += "<text x=\"\(f(left + 30))\" y=\"\(f(y))\" class=\"legend-text\">\(MarkupText.escaped(line.name))</text>"
        }
        return s + "</g>"
    }
}
