import Foundation
import Testing
import TestSupport

/// The local single-node cluster (../shared/scripts/start-local-slurm.sh; `.ci/run` starts it).
enum LocalSlurm {
    /// True when sbatch is on PATH and SLURM_CONF names a cluster.
    static var isAvailable: Bool {
        guard let configuration = ProcessInfo.processInfo.environment["SLURM_CONF"],
              FileManager.default.fileExists(atPath: configuration) else { return false }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/sbatch") }
    }

    static let missing: Comment = "needs a Slurm cluster: run `bash ../shared/scripts/start-local-slurm.sh; source /tmp/local-slurm/env.sh` (sets SLURM_CONF) before `swift test`"

    /// Runs a Slurm command found on PATH.
    static func run(_ program: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/env", [program] + arguments)
    }

    /// Job ids (`123`, and array tasks `123_4`) the cluster still lists, as their base ids.
    static func queued() throws -> Set<String> {
        let result = try run("squeue", ["-h", "-o", "%i"])
        return Set(result.stdout.split(whereSeparator: \.isNewline).map { String($0.split(separator: "_")[0]) })
    }

    /// Waits until none of `ids` is queued or running (squeue; no accounting database here).
    static func waitUntilGone(_ ids: [String], timeout: TimeInterval = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !queued().isDisjoint(with: ids) {
            guard Date() < deadline else { throw SlurmWaitTimeout(ids: ids, seconds: timeout) }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// The worker and finalize job ids `emflow submit` printed.
    static func jobIDs(_ output: String) -> (workers: String, finalize: String) {
        func id(after prefix: String) -> String {
            let line = output.split(separator: "\n").first { $0.hasPrefix(prefix) } ?? ""
            return line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
        }
        return (id(after: "workers: job "), id(after: "finalize: job "))
    }
}

/// Jobs that did not end in time.
struct SlurmWaitTimeout: Error, CustomStringConvertible {
    var ids: [String]
    var seconds: TimeInterval
    var description: String { "jobs \(ids) still queued after \(seconds) s" }
}

/// Runs on a real Slurm cluster: a 4-shard array of workers and a dependent finalize job.
@Suite("Slurm", .serialized, .enabled(if: LocalSlurm.isAvailable, LocalSlurm.missing))
struct SlurmTests {
    /// Submits `output` as 4 shards and returns the job ids.
    func submit(_ fixture: ClusterFixture, _ output: String) throws -> (workers: String, finalize: String) {
        let result = try fixture.emflow(["submit", fixture.pipeline, "--set", "output=\(output)", "--slurm", "--workers", "4", "--time", "10:00"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let ids = LocalSlurm.jobIDs(result.stdout)
        #expect(Int(ids.workers) != nil && Int(ids.finalize) != nil, "no job ids in: \(result.stdout)")
        return ids
    }

    @Test("a 4-shard prediction with a finalize merge equals the single-process output byte for byte")
    func fourShards() throws {
        let fixture = try ClusterFixture(label: "slurm-four")
        try fixture.runSingle("single.zarr")
        let ids = try submit(fixture, "cluster.zarr")
        try LocalSlurm.waitUntilGone([ids.workers, ids.finalize])
        let status = try fixture.status(fixture.runDirectory("cluster.zarr"))
        #expect(status["complete"] as? Bool == true, "\(status)")
        #expect((status["shards"] as? [[String: Any]])?.map { $0["state"] as? String } == ["done", "done", "done", "done"])
        try fixture.expectIdentical("single.zarr", "cluster.zarr")
    }

    @Test("a shard cancelled mid-run with scancel, then the run submitted again, gives identical output")
    func cancelAndResubmit() throws {
        let fixture = try ClusterFixture(label: "slurm-cancel")
        try fixture.runSingle("single.zarr")
        let runDirectory = fixture.runDirectory("cluster.zarr")
        let markers = fixture.directory.path + "/cluster.zarr/prediction/.emflow-done"
        let ids = try submit(fixture, "cluster.zarr")

        // Cancel shard 0 once it has written its first block.
        let shardZero = Set(0..<(ClusterFixture.blocks / 4))
        let deadline = Date().addingTimeInterval(60)
        while try doneBlocks(markers).isDisjoint(with: shardZero) {
            #expect(Date() < deadline, "shard 0 wrote no block within 60 s")
            if Date() >= deadline { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let cancel = try LocalSlurm.run("scancel", ["\(ids.workers)_0"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        try LocalSlurm.waitUntilGone([ids.workers, ids.finalize])

        let done = try doneBlocks(markers)
        let cancelledMidRun = !shardZero.isSubset(of: done)
        let status = try fixture.status(runDirectory)
        let shards = status["shards"] as? [[String: Any]] ?? []
        #expect(status["complete"] as? Bool == false)
        #expect((status["finalize"] as? [String: Any])?["state"] as? String == "not run", "\(status)")
        if cancelledMidRun {
            #expect(shards.first?["state"] as? String == "failed", "\(shards)")
            #expect((shards.first?["detail"] as? String)?.contains("CANCELLED") == true, "\(shards)")
        }
        #expect(!FileManager.default.fileExists(atPath: runDirectory + "/reports/finalize.json"))

        // Submitting again redoes only what shard 0 left; the output equals the single run's.
        let again = try submit(fixture, "cluster.zarr")
        try LocalSlurm.waitUntilGone([again.workers, again.finalize])
        #expect(try fixture.status(runDirectory)["complete"] as? Bool == true)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/reports/shard-0.json"))) as! [String: Any]
        let write = (report["passes"] as! [[String: Any]]).first { $0["stage"] as? String == "save_prediction" }
        #expect(write?["skipped"] as? Int == done.intersection(shardZero).count)
        #expect(write?["done"] as? Int == shardZero.count - done.intersection(shardZero).count)
        try fixture.expectIdentical("single.zarr", "cluster.zarr")
        #expect(cancelledMidRun, "shard 0 finished before scancel reached it: the test showed resubmission only")
    }

    @Test("a failing worker leaves the finalize job unrun and status names the failure and its log")
    func failingWorker() throws {
        let fixture = try ClusterFixture(label: "slurm-fail")
        // A damaged chunk of the input: the blocks that read it fail.
        let chunk = fixture.directory.path + "/image.zarr/raw/1/1/1"
        #expect(FileManager.default.fileExists(atPath: chunk))
        try Data("not a zstd frame".utf8).write(to: URL(fileURLWithPath: chunk))
        let ids = try submit(fixture, "cluster.zarr")
        try LocalSlurm.waitUntilGone([ids.workers, ids.finalize])

        let runDirectory = fixture.runDirectory("cluster.zarr")
        let status = try fixture.status(runDirectory)
        #expect((status["finalize"] as? [String: Any])?["state"] as? String == "not run", "\(status)")
        #expect(!FileManager.default.fileExists(atPath: runDirectory + "/reports/finalize.json"))
        let failed = (status["shards"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "failed" }
        #expect(!failed.isEmpty && failed.count < 4, "\(status)")
        let prediction = (status["outputs"] as? [[String: Any]])?.first { $0["stage"] as? String == "save_prediction" }
        #expect((prediction?["failed"] as? Int ?? 0) > 0, "\(status)")

        let text = try fixture.emflow(["status", runDirectory]).stdout
        for shard in failed {
            let index = shard["shard"] as! Int, log = shard["log"] as! String
            #expect(log == runDirectory + "/logs/shard-\(index).log")
            #expect(text.contains("shard \(index): failed: save_prediction (write) block"), "\(text)")
            #expect(text.contains("(log: \(log))"), "\(text)")
            #expect(text.contains("raw/1/1/1"), "the failure names the damaged chunk:\n\(text)")
            let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(logText.contains("some blocks failed"), "\(logText)")
        }
    }

    @Test("a second submission while jobs run is refused; emflow cancel ends the run's jobs")
    func refuseThenCancel() throws {
        let fixture = try ClusterFixture(label: "slurm-cancel-cmd")
        let runDirectory = fixture.runDirectory("cluster.zarr")
        let ids = try submit(fixture, "cluster.zarr")
        let second = try fixture.emflow(["submit", fixture.pipeline, "--set", "output=cluster.zarr", "--slurm", "--workers", "4"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("still waiting or running") && second.stderr.contains("emflow cancel"), "\(second.stderr)")

        let cancel = try fixture.emflow(["cancel", runDirectory])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("cancelled jobs \(ids.workers), \(ids.finalize)"), "\(cancel.stdout)")
        try LocalSlurm.waitUntilGone([ids.workers, ids.finalize], timeout: 30)
        let status = try fixture.status(runDirectory)
        #expect(status["complete"] as? Bool == false)
        #expect((status["finalize"] as? [String: Any])?["state"] as? String != "done", "\(status)")
    }

    private func doneBlocks(_ markers: String) throws -> Set<Int> {
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: markers)) ?? []
        var done = Set<Int>()
        for directory in directories where directory.hasPrefix("save_prediction-") {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: markers + "/" + directory)) ?? [] {
                if let id = Int(name) { done.insert(id) }
            }
        }
        return done
    }
}
