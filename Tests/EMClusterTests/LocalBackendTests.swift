import Foundation
import Testing
import TestSupport

/// `emflow submit --local N`: the cluster code path (task file, sharded workers, finalize job,
/// reports, status) with child processes instead of a scheduler.
@Suite("Local back end", .serialized)
struct LocalBackendTests {
    @Test("two local workers and the finalize job give the single-process output byte for byte")
    func localEqualsSingle() throws {
        let fixture = try ClusterFixture(label: "cluster-local")
        try fixture.runSingle("single.zarr")
        let submit = try fixture.emflow(["submit", fixture.pipeline, "--set", "output=local.zarr", "--local", "2"])
        #expect(submit.status == 0, "\(submit.stdout)\n\(submit.stderr)")
        let compared = try fixture.expectIdentical("single.zarr", "local.zarr")
        #expect(compared > 2 * ClusterFixture.blocks)

        // Each worker wrote its half of the predictions; the labels waited for the finalize job.
        let runDirectory = fixture.runDirectory("local.zarr")
        for shard in 0..<2 {
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/reports/shard-\(shard).json"))) as! [String: Any]
            let passes = report["passes"] as! [[String: Any]]
            let write = passes.first { $0["stage"] as? String == "save_prediction" }
            #expect(write?["done"] as? Int == ClusterFixture.blocks / 2)
            #expect(!passes.contains { $0["stage"] as? String == "save_labels" })
        }
        let status = try fixture.status(runDirectory)
        #expect(status["complete"] as? Bool == true)
        let outputs = status["outputs"] as? [[String: Any]] ?? []
        #expect(outputs.count == 2 && outputs.allSatisfy { $0["done"] as? Int == ClusterFixture.blocks })

        // Submitting the finished run again redoes nothing and still completes.
        let again = try fixture.emflow(["submit", fixture.pipeline, "--set", "output=local.zarr", "--local", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/reports/shard-0.json"))) as! [String: Any]
        let write = (report["passes"] as! [[String: Any]]).first { $0["stage"] as? String == "save_prediction" }
        #expect(write?["done"] as? Int == 0 && write?["skipped"] as? Int == ClusterFixture.blocks / 2)
        try fixture.expectIdentical("single.zarr", "local.zarr")
    }

    @Test("outputs that shards cannot share are refused before anything is submitted")
    func refusesHDF5Output() throws {
        let fixture = try ClusterFixture(label: "cluster-refuse")
        let result = try fixture.emflow(["submit", fixture.pipeline, "--set", "output=out.h5:results", "--local", "2"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("stage 'save_prediction'") && result.stderr.contains("needs a Zarr output"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/out.h5"))
    }
}
