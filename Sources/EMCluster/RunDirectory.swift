import EMPipeline
import EMStorage
import EMStores
import Foundation

/// The directory of one cluster run, beside the pipeline's first output: the task, the job
/// ids, the batch scripts, the jobs' logs and a report per finished shard.
///
///     task.json  jobs.json  worker.sbatch  finalize.sbatch
///     logs/shard-N.log  logs/finalize.log
///     reports/shard-N.json  reports/finalize.json
public struct RunDirectory: Sendable {
    /// The directory (absolute).
    public let path: String

    /// A run directory at `path`.
    public init(path: String) {
        self.path = path
    }

    /// The run directory of `pipeline`: `.emflow-run` beside its first output, made absolute
    /// against `workingDirectory`.
    ///
    /// - Throws: `ClusterError.refused` when the pipeline writes no output.
    public static func location(for pipeline: Pipeline, workingDirectory: String) throws -> RunDirectory {
        guard let address = pipeline.stages.lazy.flatMap(\.outputStores).first?.address else {
            throw ClusterError.refused("pipeline '\(pipeline.name)' (\(pipeline.file)) writes no output, so there is nothing to run on a cluster")
        }
        let sidecar = Stores.sidecarPath(for: address, name: "run")
        return RunDirectory(path: sidecar.hasPrefix("/") ? sidecar : workingDirectory + "/" + sidecar)
    }

    /// The task file.
    public var task: String { path + "/" + TaskSpec.fileName }
    /// The record of submitted jobs.
    public var jobs: String { path + "/jobs.json" }
    /// The log of a shard; `JobCommand.taskToken` stands for its number.
    public var shardLogPattern: String { path + "/logs/shard-\(JobCommand.taskToken).log" }
    /// The log of shard `shard`.
    public func shardLog(_ shard: Int) -> String { JobCommand.substituting(shardLogPattern, task: String(shard)) }
    /// The log of the finalize job.
    public var finalizeLog: String { path + "/logs/finalize.log" }
    /// The report shard `shard` writes when it ends.
    public func shardReport(_ shard: Int) -> String { path + "/reports/shard-\(shard).json" }
    /// The report the finalize job writes when it ends.
    public var finalizeReport: String { path + "/reports/finalize.json" }
    /// The batch script of the worker array (for back ends that submit scripts).
    public var workerScript: String { path + "/worker.sbatch" }
    /// The batch script of the finalize job.
    public var finalizeScript: String { path + "/finalize.sbatch" }

    /// Removes the reports of an earlier submission.
    func clearReports() {
        try? FileManager.default.removeItem(atPath: path + "/reports")
    }
}

/// The jobs of one submission, kept in `jobs.json`.
public struct JobRecord: Codable, Sendable {
    /// The back end's name ("slurm", "local").
    public var backend: String
    /// The worker array's job id.
    public var array: String
    /// The finalize job's id.
    public var finalize: String
    /// Number of shards (array tasks).
    public var shards: Int
    /// When it was submitted (ISO 8601).
    public var submitted: String

    /// Every submission of the run, oldest first.
    static func readAll(_ directory: RunDirectory) throws -> [JobRecord] {
        guard let data = FileManager.default.contents(atPath: directory.jobs) else { return [] }
        do { return try JSONDecoder().decode([JobRecord].self, from: data) } catch {
            throw ClusterError.runDirectory(path: directory.jobs, reason: "not a record of jobs (\(error))")
        }
    }

    /// Appends `record` to the run's submissions.
    static func append(_ record: JobRecord, to directory: RunDirectory) throws {
        let records = try readAll(directory) + [record]
        try JSONFiles.write(records, to: directory.jobs)
    }
}

/// How one shard (or the finalize job) ended, written by the process itself.
public struct ShardReport: Codable, Sendable {
    /// One failed block.
    public struct Failure: Codable, Sendable, Hashable {
        /// The block's id in its stage's grid.
        public var block: Int
        /// Why it failed.
        public var message: String
    }

    /// One stage pass.
    public struct Pass: Codable, Sendable {
        /// The stage.
        public var stage: String
        /// The pass (`write`, `label`, ...).
        public var pass: String
        /// Blocks done by this process.
        public var done: Int
        /// Blocks found done before.
        public var skipped: Int
        /// Blocks that failed.
        public var failures: [Failure]
    }

    /// The shard's number, nil for the finalize job.
    public var shard: Int?
    /// True when every block succeeded.
    public var succeeded: Bool
    /// Why the run could not start or continue, when it could not.
    public var error: String?
    /// Every pass of the run.
    public var passes: [Pass]

    /// The report of `summary` (or of `error` when the run threw).
    init(shard: Int?, summary: RunSummary?, error: Error?) {
        self.shard = shard
        self.error = error.map { "\($0)" }
        self.passes = (summary?.passes ?? []).map { pass in
            Pass(stage: pass.stage, pass: pass.pass, done: pass.done, skipped: pass.skipped,
                 failures: pass.failures.map { Failure(block: $0.block, message: $0.message) })
        }
        self.succeeded = error == nil && (summary?.succeeded ?? false)
    }

    /// Reads a report; nil when there is none (the process has not ended, or was killed).
    static func read(_ path: String) -> ShardReport? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ShardReport.self, from: $0) }
    }

    /// Writes the report (atomically).
    func write(to path: String) throws {
        try JSONFiles.write(self, to: path)
    }
}
