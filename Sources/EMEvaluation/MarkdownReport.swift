import Foundation

/// Renders a report as Markdown tables; overlays are linked as PNG files beside it.
enum MarkdownReport {
    /// - Parameter overlayPath: relative path of an overlay's PNG file, nil to leave it out.
    static func render(_ report: EvaluationReport, overlayPath: (RunEvaluation, VolumeEvaluation, SliceOverlay) -> String?) -> String {
        var s = "# \(report.title)\n\nEvaluation report, \(ReportFormat.date(report.created)).\n\n## Summary\n\n"
        s += "| Run | Precision | Recall | F1 | IoU | AP (mean) | ROC-AUC (mean) | Object F1 | Object AP (mean) | CREMI score (nm) |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for run in report.runs {
            let voxel = run.pooledVoxelCounts
            s += "| \(ReportFormat.markdown(run.name)) | \(n(voxel.precision)) | \(n(voxel.recall)) | \(n(voxel.f1)) | \(n(voxel.iou)) | "
            s += "\(n(run.meanAveragePrecision)) | \(n(run.meanROCAUC)) | \(n(run.pooledObjectCounts?.f1)) | \(n(run.meanObjectAveragePrecision)) | \(n(run.meanCremiScore, 1)) |\n"
        }
        for name in report.volumeNames {
            s += "\n## \(name)\n\n"
            s += "| Run | Threshold | Precision | Recall | F1 | IoU | AP | AP range | ROC-AUC | Best F1 (at) | Objects TP/FP/FN | Object F1 | Object AP | ADGT | ADF | CREMI | FP/FN voxels |\n"
            s += "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|---:|---:|---:|---:|---:|---|\n"
            var figures = ""
            for run in report.runs {
                guard let v = run.volumes.first(where: { $0.name == name }) else { continue }
                let c = v.voxel.curve
                let range = c.method == .exact ? "exact" : "[\(n(c.averagePrecisionRange.lower, 5)), \(n(c.averagePrecisionRange.upper, 5))]"
                let objects = v.objects.map { "\($0.counts.truePositives)/\($0.counts.falsePositives)/\($0.counts.falseNegatives)" } ?? "–"
                let cremiCounts = v.cremi.map { "\($0.falsePositives)/\($0.falseNegatives)" } ?? "–"
                s += "| \(ReportFormat.markdown(run.name)) | \(n(v.voxel.threshold)) | \(n(v.voxel.precision)) | \(n(v.voxel.recall)) | \(n(v.voxel.f1)) | \(n(v.voxel.iou)) | "
                s += "\(n(c.averagePrecision, 4)) | \(range) | \(n(c.rocAUC, 4)) | \(n(c.bestF1)) (\(n(c.bestThreshold))) | \(objects) | \(n(v.objects?.f1)) | "
                s += "\(n(v.objects?.curve.averagePrecision)) | \(n(v.cremi?.adgt, 1)) | \(n(v.cremi?.adf, 1)) | \(n(v.cremi?.mean, 1)) | \(cremiCounts) |\n"
                for o in v.overlays {
                    if let path = overlayPath(run, v, o) { figures += "![\(ReportFormat.markdown(run.name)), z = \(o.z)](\(path)) " }
                }
                for note in v.notes { figures += "\n- \(ReportFormat.markdown(run.name)): \(note)" }
            }
            if !figures.isEmpty { s += "\n\(figures)\n" }
        }
        s += "\nAP: average precision Σ (R_n − R_n−1) P_n (scikit-learn). CREMI: ADGT/ADF in nm; FP/FN voxels farther than the CREMI distance.\n"
        return s
    }

    private static func n(_ value: Double?, _ digits: Int = 3) -> String { ReportFormat.number(value, digits: digits) }
}
