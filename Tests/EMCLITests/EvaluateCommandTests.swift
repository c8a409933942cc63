import Foundation
import Testing
import TestSupport

/// `emflow evaluate` and `emflow report` on a generated volume with known labels.
@Suite("Evaluation commands")
struct EvaluateCommandTests {
    @Test func perfectAndImperfectPredictionsAndComparison() throws {
        let dir = try TestEnvironment.temporaryDirectory("evaluate")
        let volume = dir.path + "/v.zarr"
        let generated = try runEmflow(["generate", volume, "--shape", "8,128,128", "--seed", "4", "--chunks", "4,64,64"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let truth = volume + "/volumes/labels/synapse"

        // The truth itself as a uint8 score (0 or 1/255): perfect at any threshold below 1/255.
        let perfect = try runEmflow(["evaluate", "--prediction", truth, "--truth", truth, "--raw", volume + "/volumes/raw",
                                     "--threshold", "0.001", "--name", "perfect", "--report", dir.path + "/perfect", "--json"])
        #expect(perfect.status == 0, "\(perfect.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(perfect.stdout.utf8)) as! [String: Any]
        let runs = report["runs"] as! [[String: Any]]
        let voxel = (runs[0]["volumes"] as! [[String: Any]])[0]["voxel"] as! [String: Any]
        #expect(voxel["f1"] as? Double == 1)
        #expect((voxel["curve"] as! [String: Any])["averagePrecision"] as? Double == 1)

        // Membranes scored against synapses: a poor but valid prediction.
        let poor = try runEmflow(["evaluate", "--prediction", volume + "/volumes/labels/membrane", "--truth", truth,
                                  "--threshold", "0.001", "--name", "membranes", "--report", dir.path + "/poor"])
        #expect(poor.status == 0, "\(poor.stderr)")
        #expect(poor.stdout.contains("PR-AUC"))
        #expect(!poor.stdout.contains("F1 1.0000"))

        let compared = try runEmflow(["report", dir.path + "/perfect", dir.path + "/poor/report.json", "--output", dir.path + "/both"])
        #expect(compared.status == 0, "\(compared.stderr)")
        let html = try String(contentsOfFile: dir.path + "/both/report.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("perfect") && html.contains("membranes"))
        #expect(!html.contains("http://") && !html.contains("https://"), "the report must not need the network")
    }

    @Test func mismatchedShapesAndMissingInputsAreClearErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory("evaluate-bad")
        #expect(try runEmflow(["generate", dir.path + "/a.zarr", "--shape", "4,32,32"]).status == 0)
        #expect(try runEmflow(["generate", dir.path + "/b.zarr", "--shape", "4,32,48"]).status == 0)
        let mismatch = try runEmflow(["evaluate", "--prediction", dir.path + "/b.zarr/volumes/raw", "--truth", dir.path + "/a.zarr/volumes/labels/synapse"])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("b.zarr") && mismatch.stderr.contains("4,32,32"), "\(mismatch.stderr)")
        let missing = try runEmflow(["evaluate", "--prediction", dir.path + "/nope.h5:pred", "--truth", dir.path + "/a.zarr/volumes/labels/synapse"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.h5"), "\(missing.stderr)")
        let noReport = try runEmflow(["report", dir.path + "/missing-run", "--output", dir.path + "/out"])
        #expect(noReport.status != 0 && noReport.stderr.contains("missing-run"), "\(noReport.stderr)")
    }
}
