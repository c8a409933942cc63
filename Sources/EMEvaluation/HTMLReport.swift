import EMLabels
import EMImaging
import Foundation

/// Renders a report as one self-contained HTML page: inline CSS, inline SVG charts and PNG
/// overlays as data URIs, so it opens anywhere without a network.
enum HTMLReport {
    static func render(_ report: EvaluationReport) -> String {
        var body = header(report)
        body += cards(report)
        body += summaryTable(report)
        for name in report.volumeNames { body += volumeSection(name, report: report) }
        body += definitions
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(MarkupText.escaped(report.title))</title><style>\(style)</style></head>
        <body><main>\(body)<footer>Made by emflow · report format \(report.formatVersion) · \(ReportFormat.date(report.created))</footer></main></body></html>
        """
    }

    private static func color(_ runIndex: Int) -> String { SVGChart.palette[runIndex % SVGChart.palette.count] }

    private static func header(_ report: EvaluationReport) -> String {
        let volumes = report.volumeNames.count
        return """
        <header><h1>\(MarkupText.escaped(report.title))</h1>
        <p class="meta">Evaluation report · \(report.runs.count) run\(report.runs.count == 1 ? "" : "s") · \(volumes) volume\(volumes == 1 ? "" : "s") · \(ReportFormat.date(report.created))</p></header>
        """
    }

    /// One card per run with its headline numbers.
    private static func cards(_ report: EvaluationReport) -> String {
        var s = "<section class=\"cards\">"
        for (i, run) in report.runs.enumerated() {
            let voxel = run.pooledVoxelCounts
            s += "<div class=\"card\" style=\"border-top-color:\(color(i))\"><h3>\(MarkupText.escaped(run.name))</h3><dl>"
            s += metric("PR-AUC (AP)", ReportFormat.number(run.meanAveragePrecision))
            s += metric("Voxel F1", ReportFormat.number(voxel.f1))
            if let objects = run.pooledObjectCounts { s += metric("Object F1", ReportFormat.number(objects.f1)) }
            if let cremi = run.meanCremiScore { s += metric("CREMI score", ReportFormat.number(cremi, digits: 1) + " nm") }
            s += "</dl></div>"
        }
        return s + "</section>"
    }

    private static func metric(_ label: String, _ value: String) -> String {
        "<div><dt>\(label)</dt><dd>\(value)</dd></div>"
    }

    /// Marks the best value of each numeric column (higher or lower is better).
    private struct Column {
        var title: String
        var higherIsBetter: Bool?
        var digits = 3
        var values: [Double?]
        /// Text shown instead of the formatted values.
        var text: [String]? = nil
    }

    private static func table(rowTitles: [String], rowColors: [String], columns: [Column], cssClass: String, caption: String? = nil) -> String {
        var s = "<div class=\"table-wrap\"><table class=\"\(cssClass)\">"
        if let caption { s += "<caption>\(caption)</caption>" }
        s += "<thead><tr><th>Run</th>"
        for c in columns { s += "<th>\(c.title)</th>" }
        s += "</tr></thead><tbody>"
        for (r, title) in rowTitles.enumerated() {
            s += "<tr><th><span class=\"swatch\" style=\"background:\(rowColors[r])\"></span>\(MarkupText.escaped(title))</th>"
            for c in columns {
                let finite = c.values.compactMap { $0 }.filter(\.isFinite)
                let best = c.higherIsBetter.flatMap { $0 ? finite.max() : finite.min() }
                let value = c.values[r]
                let isBest = rowTitles.count > 1 && value != nil && value == best
                s += "<td\(isBest ? " class=\"best\"" : "")>\(c.text?[r] ?? ReportFormat.number(value, digits: c.digits))</td>"
            }
            s += "</tr>"
        }
        return s + "</tbody></table></div>"
    }

    private static func summaryTable(_ report: EvaluationReport) -> String {
        let runs = report.runs
        let voxel = runs.map(\.pooledVoxelCounts)
        let objects = runs.map(\.pooledObjectCounts)
        var columns = [
            Column(title: "Precision", higherIsBetter: true, values: voxel.map(\.precision)),
            Column(title: "Recall", higherIsBetter: true, values: voxel.map(\.recall)),
            Column(title: "F1", higherIsBetter: true, values: voxel.map(\.f1)),
            Column(title: "IoU", higherIsBetter: true, values: voxel.map(\.iou)),
            Column(title: "AP", higherIsBetter: true, values: runs.map(\.meanAveragePrecision)),
            Column(title: "ROC-AUC", higherIsBetter: true, values: runs.map(\.meanROCAUC)),
        ]
        if objects.contains(where: { $0 != nil }) {
            columns += [
                Column(title: "Object P", higherIsBetter: true, values: objects.map { $0?.precision }),
                Column(title: "Object R", higherIsBetter: true, values: objects.map { $0?.recall }),
                Column(title: "Object F1", higherIsBetter: true, values: objects.map { $0?.f1 }),
                Column(title: "Object AP", higherIsBetter: true, values: runs.map(\.meanObjectAveragePrecision)),
            ]
        }
        if runs.contains(where: { $0.meanCremiScore != nil }) {
            columns.append(Column(title: "CREMI (nm)", higherIsBetter: false, digits: 1, values: runs.map(\.meanCremiScore)))
        }
        return "<section><h2>Summary</h2><p class=\"hint\">Voxel and object counts pooled over all volumes at each run's threshold; AP, ROC-AUC and CREMI score averaged over volumes. Best value per column in bold.</p>"
            + table(rowTitles: runs.map(\.name), rowColors: runs.indices.map(color), columns: columns, cssClass: "summary") + "</section>"
    }

    private static func volumeSection(_ name: String, report: EvaluationReport) -> String {
        let entries = report.runs.enumerated().compactMap { i, run in run.volumes.first { $0.name == name }.map { (i, run.name, $0) } }
        guard let first = entries.first?.2 else { return "" }
        var s = "<section class=\"volume\"><h2>\(MarkupText.escaped(name))</h2>"
        s += "<p class=\"meta\">Region \(first.region) · voxel \(first.voxelSize) · \(ReportFormat.count(first.region.voxelCount)) voxels</p>"
        s += "<div class=\"charts\">"
        s += prCurve(title: "Voxel precision-recall", entries: entries.map { ($0.0, $0.1, $0.2.voxel.curve, ($0.2.voxel.recall, $0.2.voxel.precision)) })
        s += f1Curve(entries)
        let objectEntries = entries.compactMap { e in e.2.objects.map { (e.0, e.1, $0.curve, ($0.recall, $0.precision)) } }
        if !objectEntries.isEmpty { s += prCurve(title: "Object precision-recall", entries: objectEntries) }
        let tables = volumeTables(entries)
        s += "<div class=\"chart-side\">\(tables.side)</div></div>"
        s += tables.voxels
        s += overlays(entries)
        let notes = entries.flatMap { e in e.2.notes.map { "\(e.1): \($0)" } }
        if !notes.isEmpty { s += "<ul class=\"notes\">" + notes.map { "<li>\(MarkupText.escaped($0))</li>" }.joined() + "</ul>" }
        return s + "</section>"
    }

    private static func prCurve(title: String, entries: [(Int, String, CurveSummary, (Double, Double))]) -> String {
        let series = entries.map { index, run, curve, operating in
            SVGChart.Series(name: "\(run) — AP \(ReportFormat.number(curve.averagePrecision))", color: color(index),
                            points: prPoints(curve), markers: [(operating.0, operating.1)])
        }
        return SVGChart(title: title, xLabel: "Recall", yLabel: "Precision", series: series).render()
    }

    private static func f1Curve(_ entries: [(Int, String, VolumeEvaluation)]) -> String {
        let thresholds = entries.flatMap { $0.2.voxel.curve.points.map(\.threshold) }
        let low = min(0, thresholds.min() ?? 0), high = max(1, thresholds.max() ?? 1)
        let series = entries.map { index, run, volume in
            let curve = volume.voxel.curve
            return SVGChart.Series(name: "\(run) — best F1 \(ReportFormat.number(curve.bestF1)) at \(ReportFormat.number(curve.bestThreshold))",
                                   color: color(index), points: curve.points.map { ($0.threshold, $0.f1) }.sorted { $0.0 < $1.0 },
                                   markers: [(volume.voxel.threshold, volume.voxel.f1)])
        }
        return SVGChart(title: "Voxel F1 against threshold", xLabel: "Threshold", yLabel: "F1", xRange: low...high, series: series).render()
    }

    /// The sampled curve as (recall, precision), starting at recall 0 with the first precision.
    private static func prPoints(_ curve: CurveSummary) -> [(x: Double, y: Double)] {
        guard let first = curve.points.first else { return [] }
        return [(0, first.precision)] + curve.points.map { ($0.recall, $0.precision) }
    }

    /// The voxel table, and the object and CREMI tables that sit beside the object chart.
    private static func volumeTables(_ entries: [(Int, String, VolumeEvaluation)]) -> (voxels: String, side: String) {
        let v = entries.map(\.2)
        let titles = entries.map(\.1), colors = entries.map { color($0.0) }
        let voxelColumns = [
            Column(title: "Threshold", higherIsBetter: nil, values: v.map(\.voxel.threshold)),
            Column(title: "Precision", higherIsBetter: true, values: v.map(\.voxel.precision)),
            Column(title: "Recall", higherIsBetter: true, values: v.map(\.voxel.recall)),
            Column(title: "F1", higherIsBetter: true, values: v.map(\.voxel.f1)),
            Column(title: "IoU", higherIsBetter: true, values: v.map(\.voxel.iou)),
            Column(title: "AP", higherIsBetter: true, digits: 4, values: v.map(\.voxel.curve.averagePrecision)),
            Column(title: "AP method", higherIsBetter: nil, values: v.map { _ in nil }, text: v.map { apMethod($0.voxel.curve) }),
            Column(title: "ROC-AUC", higherIsBetter: true, digits: 4, values: v.map(\.voxel.curve.rocAUC)),
            Column(title: "Best F1", higherIsBetter: true, values: v.map(\.voxel.curve.bestF1)),
            Column(title: "at", higherIsBetter: nil, values: v.map(\.voxel.curve.bestThreshold)),
            Column(title: "Time", higherIsBetter: nil, values: v.map { _ in nil },
                   text: v.map { String(format: "%.2f s", $0.performance.seconds) }),
        ]
        let voxels = table(rowTitles: titles, rowColors: colors, columns: voxelColumns, cssClass: "details", caption: "Voxels")
        var side = ""
        if v.contains(where: { $0.objects != nil }) {
            let objects = v.map(\.objects)
            func count(_ key: KeyPath<ConfusionCounts, Int>) -> [Double?] { objects.map { $0.map { Double($0.counts[keyPath: key]) } } }
            let columns = [
                Column(title: "TP", higherIsBetter: nil, digits: 0, values: count(\.truePositives)),
                Column(title: "FP", higherIsBetter: nil, digits: 0, values: count(\.falsePositives)),
                Column(title: "FN", higherIsBetter: nil, digits: 0, values: count(\.falseNegatives)),
                Column(title: "P", higherIsBetter: true, values: objects.map { $0?.precision }),
                Column(title: "R", higherIsBetter: true, values: objects.map { $0?.recall }),
                Column(title: "F1", higherIsBetter: true, values: objects.map { $0?.f1 }),
                Column(title: "AP", higherIsBetter: true, values: objects.map { $0?.curve.averagePrecision }),
                Column(title: "Offset (nm)", higherIsBetter: false, digits: 1, values: objects.map { $0?.meanMatchDistance }),
            ]
            let criterion = objects.compactMap { $0?.options.criterion.description }.first ?? ""
            side += table(rowTitles: titles, rowColors: colors, columns: columns, cssClass: "details",
                          caption: "Objects (match: \(MarkupText.escaped(criterion)))")
        }
        if let distance = v.compactMap({ $0.cremi?.distanceThreshold }).first {
            let cremi = v.map(\.cremi)
            let limit = ReportFormat.number(distance, digits: 0)
            let columns = [
                Column(title: "ADGT", higherIsBetter: false, digits: 1, values: cremi.map { $0?.adgt }),
                Column(title: "ADF", higherIsBetter: false, digits: 1, values: cremi.map { $0?.adf }),
                Column(title: "Score", higherIsBetter: false, digits: 1, values: cremi.map { $0?.mean }),
                Column(title: "FP &gt; \(limit)", higherIsBetter: false, digits: 0, values: cremi.map { $0.map { Double($0.falsePositives) } }),
                Column(title: "FN &gt; \(limit)", higherIsBetter: false, digits: 0, values: cremi.map { $0.map { Double($0.falseNegatives) } }),
            ]
            side += table(rowTitles: titles, rowColors: colors, columns: columns, cssClass: "details", caption: "CREMI cleft distances (nm, voxels)")
        }
        return (voxels, side)
    }

    /// "exact", or the width of the histogram bound.
    private static func apMethod(_ curve: CurveSummary) -> String {
        curve.method == .exact ? "exact" : "± \(ReportFormat.number(curve.averagePrecisionRange.width / 2, digits: 5)) (\(curve.method))"
    }

    private static func overlays(_ entries: [(Int, String, VolumeEvaluation)]) -> String {
        guard entries.contains(where: { !$0.2.overlays.isEmpty }) else { return "" }
        var s = "<h3>Sections</h3><p class=\"hint\"><span class=\"key truth\"></span>truth outline <span class=\"key prediction\"></span>prediction outline <span class=\"key ignored\"></span>ignored</p>"
        for (index, run, volume) in entries where !volume.overlays.isEmpty {
            s += "<div class=\"overlay-row\"><div class=\"overlay-run\" style=\"border-left-color:\(color(index))\">\(MarkupText.escaped(run))</div><div class=\"overlays\">"
            for o in volume.overlays {
                let caption = "z = \(o.z) · truth \(ReportFormat.count(o.truthVoxels)) · predicted \(ReportFormat.count(o.predictedVoxels)) voxels" + (o.downsampling > 1 ? " · 1:\(o.downsampling)" : "")
                let upscaled = o.width < 340 ? " class=\"upscaled\"" : ""
                s += "<figure><img\(upscaled) src=\"data:image/png;base64,\(o.png.base64EncodedString())\" width=\"\(o.width)\" height=\"\(o.height)\" alt=\"section z=\(o.z)\"><figcaption>\(caption)</figcaption></figure>"
            }
            s += "</div></div>"
        }
        return s
    }

    private static let definitions = """
    <section class="definitions"><h2>Definitions</h2><dl>
    <dt>Voxel precision, recall, F1, IoU</dt><dd>At the run's threshold: a voxel is predicted when its score is at least the threshold. Masked voxels and voxels with the invalid label are left out.</dd>
    <dt>AP (PR-AUC)</dt><dd>Average precision Σ (R<sub>n</sub> − R<sub>n−1</sub>) P<sub>n</sub> over all distinct thresholds, without interpolation (scikit-learn's average_precision_score). For volumes evaluated through a score histogram, the exact value lies within the stated bound.</dd>
    <dt>ROC-AUC</dt><dd>Area under the ROC curve with tied scores (scikit-learn's roc_auc_score).</dd>
    <dt>Objects</dt><dd>Connected components of the thresholded prediction and of the truth, matched one-to-one by the Hungarian method on centre distance in nm (or overlap); a match needs the distance within the tolerance. Object AP sweeps the object score.</dd>
    <dt>CREMI</dt><dd>ADGT: mean distance of truth voxels to the nearest predicted voxel; ADF: mean distance of predicted voxels to the nearest truth voxel; CREMI score: their mean. FP/FN: voxels farther than 200 nm from the other side. Anisotropic distances in nm.</dd>
    </dl></section>
    """

    private static let style = """
    :root{--ink:#1d2939;--muted:#667085;--line:#e4e7ec;--bg:#f6f7f9;--accent:#0072B2}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
    main{max-width:1180px;margin:0 auto;padding:28px 24px 40px}
    header h1{margin:0 0 4px;font-size:28px;letter-spacing:-0.01em}
    .meta{color:var(--muted);margin:0 0 12px}
    h2{font-size:20px;margin:0 0 10px}
    h3{font-size:16px;margin:18px 0 8px}
    section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:18px 0;box-shadow:0 1px 2px rgba(16,24,40,.04)}
    section.cards{display:flex;flex-wrap:wrap;gap:14px;background:none;border:none;box-shadow:none;padding:0}
    .card{flex:1 1 230px;background:#fff;border:1px solid var(--line);border-top:4px solid var(--accent);border-radius:10px;padding:14px 16px}
    .card h3{margin:0 0 8px;font-size:16px}
    .card dl{display:grid;grid-template-columns:1fr 1fr;gap:8px 14px;margin:0}
    .card dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
    .card dd{margin:0;font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
    .hint{color:var(--muted);font-size:13px;margin:0 0 10px}
    .table-wrap{overflow-x:auto}
    table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13.5px}
    th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
    thead th{color:var(--muted);font-weight:600;font-size:11.5px;text-transform:uppercase;letter-spacing:.02em;border-bottom:2px solid var(--line);white-space:normal;vertical-align:bottom}
    tbody th{text-align:left;font-weight:600}
    tbody tr:nth-child(even){background:#fafbfc}
    td.best{font-weight:700;color:#05603a}
    .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:7px;vertical-align:baseline}
    .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px;margin:8px 0 16px}
    svg.chart{border:1px solid var(--line);border-radius:8px;width:100%;height:auto}
    .chart-side{min-width:0}
    .chart-side caption{padding-top:0}
    caption{text-align:left;font-weight:600;font-size:14px;padding:12px 0 6px;color:var(--ink)}
    \(SVGChart.style)
    .overlay-row{display:flex;gap:12px;align-items:flex-start;margin:10px 0}
    .overlay-run{writing-mode:vertical-rl;transform:rotate(180deg);border-left:4px solid var(--accent);padding:4px 2px;font-weight:600;font-size:13px}
    .overlays{display:flex;flex-wrap:wrap;gap:10px}
    figure{margin:0;background:#101828;border-radius:6px;padding:6px;width:340px}
    figure img{display:block;width:100%;height:auto;border-radius:3px}
    figure img.upscaled{image-rendering:pixelated}
    figcaption{color:#d0d5dd;font-size:11.5px;padding:4px 2px 0}
    .key{display:inline-block;width:14px;height:3px;margin:0 5px 3px 10px;vertical-align:middle}
    .key.truth{background:#00e070}.key.prediction{background:#ff40ff}.key.ignored{background:#3050c0;height:10px}
    ul.notes{color:var(--muted);font-size:13px}
    .definitions dt{font-weight:600;margin-top:8px}.definitions dd{margin:2px 0 0;color:#475467}
    footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
    """
}
