import Foundation
import Testing
import TestSupport

/// The first-run experience (issue 8): a fresh clone of this repository's committed HEAD runs
/// `make demo` (install what is missing, release build, generate a volume, run the synapse
/// pipeline with the bundled model, evaluate, report) and prints the path of a report that holds
/// F1 and PR-AUC. It builds the whole package in the clone (minutes), so it runs only when
/// `EMFLOW_CLONE_DEMO_TEST=1` is set (`.ci/run` sets it).
@Suite("Clone and make demo")
struct CloneDemoTests {
    static let enabled = ProcessInfo.processInfo.environment["EMFLOW_CLONE_DEMO_TEST"] == "1"
    static let disabledReason: Comment =
        "builds a fresh clone in release (minutes): set EMFLOW_CLONE_DEMO_TEST=1 to run it (.ci/run does)"

    /// Runs `command` through `/usr/bin/env`, throwing with its output when it fails.
    @discardableResult
    func run(_ command: [String], in directory: URL) throws -> String {
        let result = try runProcess("/usr/bin/env", command, currentDirectory: directory)
        guard result.status == 0 else {
            throw ProcessFailure(description: "\(command.joined(separator: " ")) exited \(result.status):\n"
                                 + "\(result.stdout.suffix(4000))\n\(result.stderr.suffix(4000))")
        }
        return result.stdout
    }

    /// The numbers that follow `label` in `text` (e.g. the F1 and PR-AUC cells of the report).
    func numbers(after label: String, in text: String) -> [Double] {
        var values: [Double] = []
        var rest = text[...]
        while let range = rest.range(of: label) {
            rest = rest[range.upperBound...]
            let tail = rest.prefix(200).drop { !$0.isNumber }
            let digits = tail.prefix { $0.isNumber || $0 == "." }
            if let value = Double(digits) { values.append(value) }
        }
        return values
    }

    @Test("a fresh clone runs `make demo` and writes a report with F1 and PR-AUC",
          .enabled(if: enabled, disabledReason))
    func cloneAndRunDemo() throws {
        let root = TestEnvironment.repositoryRoot
        let head = try run(["git", "rev-parse", "HEAD"], in: root).trimmingCharacters(in: .whitespacesAndNewlines)
        let clone = try TestEnvironment.temporaryDirectory("clone-demo").appendingPathComponent("emflow")
        try run(["git", "clone", "--quiet", "--no-checkout", root.path, clone.path], in: root)
        try run(["git", "checkout", "--quiet", head], in: clone)

        let output = try run(["make", "demo"], in: clone)
        let marker = "demo report: "
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix(marker) },
                                "make demo printed no report path:\n\(output.suffix(4000))")
        let reportPath = String(line.dropFirst(marker.count))
        #expect(reportPath.hasPrefix(clone.path), "the report lies outside the clone: \(reportPath)")
        let html = try String(contentsOfFile: reportPath, encoding: .utf8)

        // The bundled model's F1 and PR-AUC, then the darkness baseline's, as the report shows them.
        let f1 = numbers(after: "F1", in: html).filter { (0...1).contains($0) }
        let prAUC = numbers(after: "PR-AUC", in: html).filter { (0...1).contains($0) }
        #expect(!f1.isEmpty, "no F1 value in \(reportPath)")
        #expect(!prAUC.isEmpty, "no PR-AUC value in \(reportPath)")

        // The machine-readable twin beside it: the bundled model and the darkness baseline, each
        // with a voxel F1 and a PR-AUC in [0, 1], and the model ranks voxels better than darkness.
        let json = URL(fileURLWithPath: reportPath).deletingLastPathComponent().appendingPathComponent("report.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]], "report.json has no runs")
        var averagePrecision: [String: Double] = [:]
        for run in runs {
            let name = try #require(run["name"] as? String)
            let volume = try #require((run["volumes"] as? [[String: Any]])?.first, "run \(name) has no volume")
            let voxel = try #require(volume["voxel"] as? [String: Any], "run \(name) has no voxel metrics")
            let f1 = try #require(voxel["f1"] as? Double, "run \(name) has no voxel F1")
            let ap = try #require((voxel["curve"] as? [String: Any])?["averagePrecision"] as? Double, "run \(name) has no PR-AUC")
            #expect((0...1).contains(f1) && (0...1).contains(ap), "run \(name): F1 \(f1), PR-AUC \(ap)")
            averagePrecision[name] = ap
        }
        let model = try #require(averagePrecision["bb-unet"], "no run of the bundled model in \(averagePrecision)")
        let darkness = try #require(averagePrecision["darkness baseline"], "no darkness baseline in \(averagePrecision)")
        #expect(model > darkness, "the bundled model (PR-AUC \(model)) does not beat the darkness baseline (\(darkness))")
    }
}
