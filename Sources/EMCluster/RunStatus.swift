import EMPipeline
import Foundation

/// Where a cluster run stands: blocks done, pending and failed per output, each shard's state
/// with its log, and the finalize job's.
public struct RunStatus: Sendable {
    /// One output's blocks.
    public struct Output: Sendable {
        /// The stage that writes it.
        public var stage: String
        /// Blocks in its layout.
        public var blocks: Int
        /// Blocks marked done.
        public var done: Int
        /// Blocks a shard reported failed (and not done since).
        public var failed: Int
        /// Blocks neither done nor failed.
        public var pending: Int { blocks - done - failed }
    }

    /// One shard, or the finalize job.
    public struct Job: Sendable {
        /// The shard's number, nil for the finalize job.
        public var shard: Int?
        /// `done`, `failed`, `waiting`, `running`, `not run` or the scheduler's end state.
        public var state: String
        /// Why it failed or did not run.
        public var detail: String?
        /// Its log file.
        public var log: String
    }

    /// The run directory.
    public var directory: RunDirectory
    /// The last submission's jobs, nil when none is recorded.
    public var jobs: JobRecord?
    /// Every output.
    public var outputs: [Output]
    /// Every shard, in order.
    public var shards: [Job]
    /// The finalize job.
    public var finalize: Job

    /// True when every output's blocks are done and the finalize job succeeded.
    public var isComplete: Bool { finalize.state == "done" && outputs.allSatisfy { $0.done == $0.blocks } }

    /// Reads the state of the run in `directory`: done markers, the shards' reports, and what
    /// the scheduler that ran them still knows of the jobs. Makes the run's working directory the
    /// current one.
    ///
    /// - Throws: `ClusterError.runDirectory` when there is no task; `PipelineError` when the
    ///   pipeline cannot be loaded any more.
    public static func read(_ directory: RunDirectory) throws -> RunStatus {
        let spec = try TaskSpec.read(directory.task)
        let pipeline = try spec.loadPipeline()
        let progress = try PipelineRunner(pipeline: pipeline, options: RunOptions(version: spec.version)).progress()
        let jobs = try JobRecord.readAll(directory).last
        var arrayStates: [JobState] = []
        var finalizeState: JobState?
        if let jobs {
            let scheduler = backend(named: jobs.backend)
            arrayStates = try scheduler.states(of: jobs.array)
            finalizeState = try scheduler.states(of: jobs.finalize).first
        }

        var failedBlocks: [String: Set<Int>] = [:]
        var shards: [Job] = []
        for index in 0..<spec.shards {
            let log = directory.shardLog(index)
            let scheduler = arrayStates.first { $0.task == index } ?? arrayStates.first { $0.task == nil }
            let job = describe(report: ShardReport.read(directory.shardReport(index)), scheduler: scheduler, log: log, shard: index)
            for pass in ShardReport.read(directory.shardReport(index))?.passes ?? [] {
                failedBlocks[pass.stage, default: []].formUnion(pass.failures.map(\.block))
            }
            shards.append(job)
        }
        let finalize = describe(report: ShardReport.read(directory.finalizeReport), scheduler: finalizeState,
                                log: directory.finalizeLog, shard: nil)
        let outputs = progress.map { output in
            Output(stage: output.stage, blocks: output.blocks, done: output.done.count,
                   failed: (failedBlocks[output.stage] ?? []).subtracting(output.done).count)
        }
        return RunStatus(directory: directory, jobs: jobs, outputs: outputs, shards: shards, finalize: finalize)
    }

    /// A job's state from its own report (when it ended) or else from the scheduler.
    private static func describe(report: ShardReport?, scheduler: JobState?, log: String, shard: Int?) -> Job {
        if let report {
            if report.succeeded { return Job(shard: shard, state: "done", detail: nil, log: log) }
            var reasons = report.error.map { [$0] } ?? []
            for pass in report.passes {
                for failure in pass.failures.prefix(3) { reasons.append("\(pass.stage) (\(pass.pass)) block \(failure.block): \(failure.message)") }
                if pass.failures.count > 3 { reasons.append("\(pass.stage) (\(pass.pass)): \(pass.failures.count - 3) more failed blocks") }
            }
            return Job(shard: shard, state: "failed", detail: reasons.joined(separator: "; "), log: log)
        }
        guard let scheduler else { return Job(shard: shard, state: "unknown", detail: "no report and the scheduler no longer knows the job", log: log) }
        switch scheduler.state {
        case "PENDING": return Job(shard: shard, state: "waiting", detail: scheduler.reason, log: log)
        case "RUNNING", "CONFIGURING", "COMPLETING": return Job(shard: shard, state: "running", detail: nil, log: log)
        case "CANCELLED" where scheduler.reason == "DependencyNeverSatisfied":
            return Job(shard: shard, state: "not run", detail: "cancelled: a worker failed", log: log)
        default:
            return Job(shard: shard, state: "failed", detail: "ended \(scheduler.state)" + (scheduler.reason.map { " (\($0))" } ?? "")
                       + " without a report", log: log)
        }
    }

    /// A table of outputs, then the shards that did not succeed with their logs.
    public var text: String {
        var lines = ["run: \(directory.path)"]
        if let jobs { lines.append("jobs (\(jobs.backend)): workers \(jobs.array) (\(jobs.shards) shards), finalize \(jobs.finalize)") }
        let width = max(5, outputs.map(\.stage.count).max() ?? 0)
        func row(_ cells: [String]) -> String {
            cells[0].padding(toLength: width, withPad: " ", startingAt: 0) + cells.dropFirst().map { String(repeating: " ", count: max(0, 8 - $0.count)) + $0 }.joined()
        }
        lines.append(row(["stage", "blocks", "done", "pending", "failed"]))
        for output in outputs { lines.append(row([output.stage, String(output.blocks), String(output.done), String(output.pending), String(output.failed)])) }
        let counts = Dictionary(grouping: shards, by: \.state).map { "\($0.value.count) \($0.key)" }.sorted()
        lines.append("shards: " + counts.joined(separator: ", "))
        for job in shards where job.state != "done" && job.state != "running" && job.state != "waiting" {
            lines.append("shard \(job.shard!): \(job.state)\(job.detail.map { ": \($0)" } ?? "") (log: \(job.log))")
        }
        lines.append("finalize: \(finalize.state)\(finalize.detail.map { ": \($0)" } ?? "") (log: \(finalize.log))")
        return lines.joined(separator: "\n")
    }

    /// The status as JSON-compatible objects.
    public var jsonObject: [String: Any] {
        func job(_ job: Job) -> [String: Any] {
            var object: [String: Any] = ["state": job.state, "log": job.log]
            if let shard = job.shard { object["shard"] = shard }
            if let detail = job.detail { object["detail"] = detail }
            return object
        }
        var object: [String: Any] = [
            "run_directory": directory.path,
            "complete": isComplete,
            "outputs": outputs.map { ["stage": $0.stage, "blocks": $0.blocks, "done": $0.done, "pending": $0.pending, "failed": $0.failed] },
            "shards": shards.map(job),
            "finalize": job(finalize),
        ]
        if let jobs { object["jobs"] = ["backend": jobs.backend, "array": jobs.array, "finalize": jobs.finalize, "shards": jobs.shards] }
        return object
    }
}
