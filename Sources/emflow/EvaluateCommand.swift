import ArgumentParser
import EMEvaluation
import EMProgress
import EMStorage
import EMStores
import Foundation

/// `emflow evaluate`: voxel, object and CREMI metrics of a prediction against its truth, and a report.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a prediction against ground truth: F1, PR-AUC, object F1, CREMI distances, and a report.",
        discussion: """
        Scores may be float32 probabilities or uint8/uint16 (scaled to 0-1). Truth and mask are \
        integer volumes: truth voxels other than 0 (and other than --invalid) are positive; mask \
        voxels equal to 0 are ignored. The report directory gets report.html (self-contained, \
        with PR curves, F1 against threshold and slice overlays), report.json and report.md.

        Examples:
          emflow evaluate --prediction out.zarr/probabilities \\
              --truth val.h5:volumes/labels/synapse --report eval-report
        """
    )

    @Option(help: "Address of the predicted scores.")
    var prediction: String

    @Option(help: "Address of the ground-truth labels.")
    var truth: String

    @Option(help: "Address of a mask: voxels where it is 0 are ignored.")
    var mask: String?

    @Option(help: "Address of the raw EM data drawn under the slice overlays.")
    var raw: String?

    @Option(parsing: .unconditional, help: "Score threshold for voxel and object metrics (a value below 0 is read as a number, not an option).")
    var threshold: Double = 0.5

    @Option(help: "Truth label value that marks invalid voxels (ignored, as in CREMI).")
    var invalid: UInt64?

    @Option(name: .customLong("match-tolerance"), help: "Object matching: largest centre distance in nm.")
    var matchTolerance: Double = 200

    @Option(name: .customLong("min-size"), help: "Object metrics: smallest predicted object in voxels.")
    var minimumSize: Int = 1

    @Option(help: "Name of this run in the report.")
    var name: String?

    @Option(help: "Directory for the report (created).")
    var report: String?

    @Flag(help: "Print the results as JSON instead of text.")
    var json = false

    func validate() throws {
        guard threshold.isFinite else { throw ValidationError("--threshold must be a number") }
        guard matchTolerance >= 0 else { throw ValidationError("--match-tolerance must not be negative") }
        guard minimumSize >= 1 else { throw ValidationError("--min-size must be at least 1 voxel") }
    }

    func run() throws {
        let predictionStore = try Stores.openComplete(prediction)
        let truthStore = try Stores.openComplete(truth)
        let maskStore = try mask.map { try Stores.openComplete($0) }
        let rawStore = try raw.map { try Stores.openComplete($0) }
        var options = EvaluationOptions(threshold: threshold, truthRule: TruthRule(invalid: invalid))
        options.objects = ObjectOptions(minimumSize: .voxels(minimumSize), criterion: .centreDistance(tolerance: matchTolerance))
        var progress: ProgressReporter?
        let result = try Evaluator.evaluate(prediction: predictionStore, truth: truthStore, mask: maskStore, raw: rawStore,
                                            name: name, options: options) { done, total in
            if progress == nil { progress = ProgressReporter(label: "evaluate", total: total, unit: "slabs", sink: ProgressReporter.automaticSink) }
            progress?.advance()
        }
        progress?.finish()
        let evaluation = EvaluationReport(title: "Evaluation of \(name ?? prediction)",
                                          runs: [RunEvaluation(name: name ?? prediction, volumes: [result])])
        if json {
            print(String(decoding: try ReportWriter.json(evaluation), as: UTF8.self))
        } else {
            printSummary(result)
        }
        if let report {
            let html = try ReportWriter.write(evaluation, to: URL(fileURLWithPath: report))
            // With --json, standard output holds only the JSON document.
            let line = "report: \(html.path)\n"
            if json { FileHandle.standardError.write(Data(line.utf8)) } else { print(line, terminator: "") }
        }
    }

    private func printSummary(_ r: VolumeEvaluation) {
        let v = r.voxel
        print(String(format: "voxels    precision %.4f  recall %.4f  F1 %.4f  IoU %.4f  at threshold %g", v.precision, v.recall, v.f1, v.iou, v.threshold))
        print(String(format: "curve     PR-AUC (average precision) %.4f  best F1 %.4f", v.curve.averagePrecision, v.curve.bestF1)
              + (v.curve.bestThreshold.map { String(format: " at %g", $0) } ?? "")
              + (v.curve.rocAUC.map { String(format: "  ROC-AUC %.4f", $0) } ?? ""))
        if let o = r.objects {
            print(String(format: "objects   precision %.4f  recall %.4f  F1 %.4f  AP %.4f  (%d predicted, %d true)",
                         o.precision, o.recall, o.f1, o.curve.averagePrecision, o.predictions.count, o.truths.count))
        }
        if let c = r.cremi {
            print(String(format: "CREMI     ADGT %.1f nm  ADF %.1f nm  mean %.1f nm  FP %d  FN %d (beyond %g nm)",
                         c.adgt, c.adf, c.mean, c.falsePositives, c.falseNegatives, c.distanceThreshold))
        }
        for note in r.notes { print("note      \(note)") }
    }
}

/// `emflow report RUN...`: one comparison report from several evaluation reports.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Combine evaluation reports (directories or report.json files) into one comparison report.",
        discussion: """
        Examples:
          emflow report runs/a/eval-report runs/b/eval-report --output comparison \\
              --title 'a against b'
        """
    )

    @Argument(help: "Report directories or report.json files written by `emflow evaluate --report`.")
    var runs: [String]

    @Option(help: "Directory for the comparison report.")
    var output: String

    @Option(help: "Title of the comparison.")
    var title: String = "Comparison"

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one report directory or report.json") }
    }

    func run() throws {
        let reports = try runs.map { try ReportWriter.read(from: URL(fileURLWithPath: $0)) }
        let combined = EvaluationReport.compare(reports, title: title)
        let html = try ReportWriter.write(combined, to: URL(fileURLWithPath: output))
        print("report: \(html.path)")
    }
}
