import EMPipeline
import Foundation

/// Submits a pipeline as a cluster run, runs its shards and its finalize job, cancels it.
///
/// A run: `submit` creates the outputs and their done markers once, writes the task into the
/// run directory and submits an array of `emflow worker --task SPEC --shard I/N` and a
/// finalize job (`emflow finalize --task SPEC`) that runs when every worker succeeded. Each
/// worker writes only its shard's blocks (whole Zarr chunks; a block's done marker follows its
/// data), so a killed worker leaves no corrupt chunk and a new submission redoes only the
/// blocks without a marker. The finalize job is an ordinary unsharded run: it finds the
/// sharded blocks done and runs what needs every block (component merges, relabelling).
public enum ClusterRun {
    /// What `submit` started.
    public struct Submission: Sendable {
        /// The run directory.
        public var directory: RunDirectory
        /// The job ids.
        public var jobs: JobRecord
    }

    /// Submits `pipelineFile` (with `overrides`, `name=value`) as `shards` workers and a
    /// finalize job on `backend`; the jobs run `executable` (an absolute path to emflow).
    ///
    /// - Throws: `PipelineError` when the pipeline is invalid; `ClusterError.refused` when it
    ///   cannot run sharded or jobs of an earlier submission are still waiting or running;
    ///   `ClusterError.scheduler` when the scheduler refuses the jobs.
    public static func submit(pipelineFile: String, overrides: [String], shards: Int, executable: String, version: String,
                              backend: ClusterBackend) throws -> Submission {
        guard shards >= 1 else { throw ClusterError.refused("--workers must be at least 1 (it is \(shards))") }
        let workingDirectory = FileManager.default.currentDirectoryPath
        guard let data = FileManager.default.contents(atPath: pipelineFile), let yaml = String(data: data, encoding: .utf8) else {
            let exists = FileManager.default.fileExists(atPath: pipelineFile)
            throw ClusterError.runDirectory(path: pipelineFile, reason: exists ? "cannot read the pipeline file as UTF-8 text" : "pipeline file not found")
        }
        var spec = TaskSpec(pipelineFile: pipelineFile, yaml: yaml, overrides: overrides, workingDirectory: workingDirectory,
                            runDirectory: "", shards: shards, executable: executable, version: version)
        let pipeline = try spec.loadPipeline()
        let problems = pipeline.shardingProblems
        guard problems.isEmpty else {
            throw ClusterError.refused("\(pipelineFile): cannot run in shards:\n  " + problems.joined(separator: "\n  "))
        }
        let directory = try RunDirectory.location(for: pipeline, workingDirectory: workingDirectory)
        spec.runDirectory = directory.path
        if let last = try JobRecord.readAll(directory).last, last.backend == backend.name {
            let active = try [last.array, last.finalize].filter { try backend.states(of: $0).contains(where: \.isActive) }
            guard active.isEmpty else {
                throw ClusterError.refused("\(directory.path): jobs \(active.joined(separator: ", ")) of the last submission are still waiting or running; `emflow cancel \(directory.path)` first")
            }
        }

        // Outputs and markers are created once here, never by workers racing each other. The
        // run directory lives beside the output, so it is written after them.
        try PipelineRunner(pipeline: pipeline, options: RunOptions(version: version)).setUp()
        try spec.write(to: directory.task, resolved: pipeline)
        directory.clearReports()

        let worker = JobCommand(name: "emflow-\(pipeline.name)", arguments: [executable, "worker", "--task", directory.task,
                                                                             "--shard", "\(JobCommand.taskToken)/\(shards)"],
                                workingDirectory: workingDirectory, log: directory.shardLogPattern, script: directory.workerScript)
        let finalize = JobCommand(name: "emflow-\(pipeline.name)-finalize", arguments: [executable, "finalize", "--task", directory.task],
                                  workingDirectory: workingDirectory, log: directory.finalizeLog, script: directory.finalizeScript)
        try FileManager.default.createDirectory(atPath: directory.path + "/logs", withIntermediateDirectories: true)
        let array = try backend.submitArray(worker, count: shards)
        let record: JobRecord
        do {
            let finalizeID = try backend.submitFinalize(finalize, after: array)
            record = JobRecord(backend: backend.name, array: array, finalize: finalizeID, shards: shards,
                               submitted: ISO8601DateFormatter().string(from: Date()))
        } catch {
            try? backend.cancel([array])
            throw error
        }
        try JobRecord.append(record, to: directory)
        return Submission(directory: directory, jobs: record)
    }

    /// Runs shard `shard` of the task at `taskPath` and writes its report; returns the summary.
    ///
    /// - Throws: when the task cannot be read or the run cannot start (the report says why).
    public static func runWorker(taskPath: String, shard: BlockShard, options: RunOptions) throws -> RunSummary {
        let spec = try TaskSpec.read(taskPath)
        guard shard.count == spec.shards else {
            throw ClusterError.refused("shard \(shard): the task at \(taskPath) was submitted in \(spec.shards) shards")
        }
        var options = options
        options.shard = shard
        return try runReported(spec, shard: shard.index, options: options, report: RunDirectory(path: spec.runDirectory).shardReport(shard.index))
    }

    /// Runs the finalize step of the task at `taskPath`: an unsharded run that finds the
    /// workers' blocks done and does what needs every block; writes its report.
    public static func runFinalize(taskPath: String, options: RunOptions) throws -> RunSummary {
        let spec = try TaskSpec.read(taskPath)
        var options = options
        options.shard = nil
        return try runReported(spec, shard: nil, options: options, report: RunDirectory(path: spec.runDirectory).finalizeReport)
    }

    private static func runReported(_ spec: TaskSpec, shard: Int?, options: RunOptions, report: String) throws -> RunSummary {
        do {
            let summary = try PipelineRunner(pipeline: try spec.loadPipeline(), options: options).run()
            try ShardReport(shard: shard, summary: summary, error: nil).write(to: report)
            return summary
        } catch {
            try? ShardReport(shard: shard, summary: nil, error: error).write(to: report)
            throw error
        }
    }

    /// Cancels the jobs of the run's last submission with the scheduler that runs them; returns
    /// their ids.
    ///
    /// - Throws: `ClusterError.runDirectory` when the directory records no submission.
    public static func cancel(_ directory: RunDirectory) throws -> [String] {
        guard let last = try JobRecord.readAll(directory).last else {
            throw ClusterError.runDirectory(path: directory.path, reason: "no submitted jobs recorded (expected jobs.json from `emflow submit`)")
        }
        let ids = [last.array, last.finalize]
        try backend(named: last.backend).cancel(ids)
        return ids
    }
}
