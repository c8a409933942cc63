import Foundation
import Testing
import EMVolume
import TestSupport
@testable import EMEvaluation

/// Two models on two synthetic volumes: a sharp one and a noisy one.
private func sampleReport() throws -> EvaluationReport {
    var runs: [RunEvaluation] = []
    for (model, noise) in [("U-Net dense", 0.15), ("U-Net pruned 80%", 0.3)] {
        var volumes: [VolumeEvaluation] = []
        for (index, name) in ["cremi_A", "cremi_B"].enumerated() {
            let (raw, truth, scores) = syntheticEM(shape: Coordinate(8, 96, 128), noise: noise, seed: UInt64(index + 1))
            volumes.append(try Evaluator.evaluate(prediction: scores, truth: truth, raw: raw, voxelSize: VoxelSize(40, 4, 4), name: name,
                                                  options: EvaluationOptions(objects: ObjectOptions(minimumSize: .voxels(4)))))
        }
        runs.append(RunEvaluation(name: model, volumes: volumes))
    }
    return EvaluationReport(title: "Synapse detection", created: Date(timeIntervalSince1970: 1_800_000_000), runs: runs)
}

/// Raw-looking data (textured background, dark blobs), the blobs as truth, and a score map
/// that follows the blobs with noise.
private func syntheticEM(shape: Coordinate, noise: Double, seed: UInt64) -> (Volume<UInt8>, Volume<UInt8>, Volume<Float>) {
    var rng = SeededGenerator(seed: seed)
    var raw = Volume<UInt8>(shape: shape), truth = Volume<UInt8>(shape: shape), scores = Volume<Float>(shape: shape)
    let centres = (0..<6).map { _ in [Double.random(in: 1..<Double(shape.z - 1), using: &rng),
                                      Double.random(in: 10..<Double(shape.y - 10), using: &rng),
                                      Double.random(in: 10..<Double(shape.x - 10), using: &rng)] }
    var modelRng = SeededGenerator(seed: seed &* 31 &+ UInt64(noise * 1000))
    for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x {
        let d = centres.map { c in ((Double(z) - c[0]) * (Double(z) - c[0]) * 100 + (Double(y) - c[1]) * (Double(y) - c[1])
                                    + (Double(x) - c[2]) * (Double(x) - c[2])).squareRoot() }.min()!
        let inside = d < 7
        truth[z, y, x] = inside ? 1 : 0
        let texture = 150 + 40 * sin(Double(x) / 5) * cos(Double(y) / 7) + Double.random(in: -25...25, using: &rng)
        raw[z, y, x] = UInt8(clampingDouble: inside ? texture - 90 : texture)
        let signal = 1 / (1 + (d / 7) * (d / 7) * (d / 7))
        scores[z, y, x] = Float(min(1, max(0, signal + Double.random(in: -noise...noise, using: &modelRng))))
    } } }
    return (raw, truth, scores)
}

@Suite("Reports")
struct ReportTests {
    @Test func jsonRoundTripsAndCombines() throws {
        let report = try sampleReport()
        let dir = try TestEnvironment.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(report, to: dir)
        let read = try ReportWriter.read(from: dir)
        #expect(read == report)
        let combined = EvaluationReport.compare([report, read])
        #expect(combined.runs.map(\.name) == ["U-Net dense", "U-Net pruned 80%", "U-Net dense (2)", "U-Net pruned 80% (2)"])
        #expect(combined.volumeNames == ["cremi_A", "cremi_B"])
        let markdown = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("| U-Net dense |") && markdown.contains("## cremi_B"))
        #expect(throws: EvaluationError.self) { try ReportWriter.read(from: dir.appendingPathComponent("report.md")) }
        #expect(throws: EvaluationError.self) { try ReportWriter.read(from: dir.appendingPathComponent("missing")) }
    }

    /// A report directory is replaced as one unit; a directory that holds other files keeps them.
    @Test func reportsAreWrittenAsOneUnit() throws {
        var report = try sampleReport()
        let parent = try TestEnvironment.temporaryDirectory("report-unit")
        defer { try? FileManager.default.removeItem(at: parent) }
        let dir = parent.appendingPathComponent("eval")
        try ReportWriter.write(report, to: dir)
        report.title = "Second evaluation"
        // A kill between the two renames of a replacement leaves the old report parked.
        try FileManager.default.moveItem(at: dir, to: parent.appendingPathComponent(".emflow-old-eval"))
        try ReportWriter.write(report, to: dir)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["eval"])
        for name in [ReportWriter.jsonName, ReportWriter.markdownName, ReportWriter.htmlName] {
            #expect(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8).contains("Second evaluation"), "\(name)")
        }
        // Other files in the directory stay; the report files are all of the new evaluation.
        try "mine".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        report.title = "Third evaluation"
        try ReportWriter.write(report, to: dir)
        #expect(try String(contentsOf: dir.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
        #expect(try ReportWriter.read(from: dir).title == "Third evaluation")
        #expect(try String(contentsOf: dir.appendingPathComponent(ReportWriter.htmlName), encoding: .utf8).contains("Third evaluation"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["eval"])
    }

    @Test func infiniteDistancesSurviveJSON() throws {
        var report = try sampleReport()
        report.runs[0].volumes[0].cremi?.adgt = .infinity
        let data = try ReportWriter.json(report)
        #expect(String(decoding: data, as: UTF8.self).contains("\"adgt\" : \"inf\""))
        let dir = try TestEnvironment.temporaryDirectory("report-inf")
        defer { try? FileManager.default.removeItem(at: dir) }
        try data.write(to: dir.appendingPathComponent("report.json"))
        #expect(try ReportWriter.read(from: dir).runs[0].volumes[0].cremi?.adgt == .infinity)
    }

    @Test func htmlIsSelfContainedWithPlotsAndTables() throws {
        let report = try sampleReport()
        let html = ReportWriter.html(report)
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"))
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 6) // 3 charts per volume
        #expect(html.components(separatedBy: "<polyline class=\"series\"").count - 1 == 12) // 2 runs per chart
        #expect(html.contains("U-Net dense — AP "))
        #expect(html.contains("<table class=\"summary\">") && html.contains("<table class=\"details\">"))
        let overlays = report.runs.flatMap(\.volumes).flatMap(\.overlays)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == overlays.count)
    }

    @Test(.needsChromium, .needsPython)
    func chromiumRendersTheReport() throws {
        let report = try sampleReport()
        let dir = try TestEnvironment.temporaryDirectory("report-html")
        defer { removeOrKeep(dir) }
        let html = try ReportWriter.write(report, to: dir)
        let screenshot = dir.appendingPathComponent("screenshot.png")
        let result = try runProcess(Chromium.path!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                     "--screenshot=\(screenshot.path)", "--window-size=1200,1600", html.absoluteString],
                                    environment: ["HOME": dir.appendingPathComponent("chromium-home").path])
        #expect(result.status == 0, "chromium failed: \(result.stderr)")
        // Pixel statistics of the screenshot: not blank, and the two series colours are drawn.
        let script = """
        import sys, numpy as np, imagecodecs
        img = imagecodecs.png_decode(open(sys.argv[1], "rb").read())[..., :3].astype(np.int32)
        def near(rgb): return int((np.abs(img - np.array(rgb)).sum(axis=2) < 40).sum())
        print(img.shape[0], img.shape[1], float(img.std()), near((0x00, 0x72, 0xB2)), near((0xD5, 0x5E, 0x00)),
              int((img.sum(axis=2) < 300).sum()))
        """
        let fields = try runPython(script, [screenshot.path]).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        #expect(fields[0] == 1600 && fields[1] == 1200)
        #expect(fields[2] > 20, "screenshot looks blank: pixel standard deviation \(fields[2])")
        #expect(fields[3] > 500 && fields[4] > 500, "series colours barely visible: \(fields[3]), \(fields[4]) pixels")
        #expect(fields[5] > 2000, "little dark text or imagery: \(fields[5]) pixels")
    }
}
