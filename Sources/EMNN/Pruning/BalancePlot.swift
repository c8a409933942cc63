import EMImaging
import Foundation

/// The selectivity-audience plot of Budgeted Broadcast pruning: each unit's
/// `log((1 - a_i) / a_i)` against its fan-out `k_i`, with the lines `beta k` of the solved and
/// the fitted multiplier.
public enum BalancePlot {
    /// A standalone SVG file.
    ///
    /// - Parameters:
    ///   - fanOut: each unit's kept outgoing slabs.
    ///   - logOdds: each unit's `log((1 - a_i) / a_i)` (same count).
    ///   - beta: the multiplier the pruning solved, if any.
    ///   - fittedBeta: the least-squares slope through the origin, if any.
    public static func svg(title: String, fanOut: [Double], logOdds: [Double], beta: Double?, fittedBeta: Double?) -> String {
        let x = niceRange(0, max(fanOut.max() ?? 1, 1) * 1.02)
        let y = niceRange(min(logOdds.min() ?? 0, 0), max(logOdds.max() ?? 1, 0.1) * 1.02)
        let xMax = x.upperBound
        var series = [SVGChart.Series(name: "units", color: SVGChart.palette[0], points: [],
                                      markers: Array(zip(fanOut, logOdds)).map { (x: $0.0, y: $0.1) }, markerRadius: 2.5)]
        for (name, slope, color) in [("solved beta", beta, SVGChart.palette[1]), ("fitted beta", fittedBeta, SVGChart.palette[2])] {
            guard let slope, slope.isFinite else { continue }
            series.append(SVGChart.Series(name: String(format: "%@ = %.4g", name, slope), color: color,
                                          points: [(x: 0, y: 0), (x: xMax, y: slope * xMax)], dashed: name == "fitted beta"))
        }
        return SVGChart(title: title, xLabel: "fan-out k (kept outgoing slabs)", yLabel: "log((1 - a) / a)",
                        xRange: x, yRange: y, series: series).standalone()
    }

    /// A range from a multiple of a 1-2-5 step to five steps above it, covering `low...high`, so the
    /// chart's five major ticks fall on round values (whole numbers once the span reaches 2).
    static func niceRange(_ low: Double, _ high: Double) -> ClosedRange<Double> {
        var step = pow(10, (log10(max(high - low, 1e-9) / 5)).rounded(.down))
        while true {
            for factor in [1.0, 2, 5] {
                let s = step * factor
                let start = (low / s).rounded(.down) * s
                if start + 5 * s >= high, 5 * s < 2 || s >= 1 { return start...(start + 5 * s) }
            }
            step *= 10
        }
    }
}
