import EMStorage
import Foundation

/// Runs jobs on Slurm: writes a batch script per job and submits it with `sbatch`, cancels with
/// `scancel` and reads states with `scontrol` (no accounting database needed).
public final class SlurmBackend: ClusterBackend {
    /// Resources asked of Slurm for every job.
    public struct Resources: Sendable {
        /// `--partition`, nil for the cluster's default.
        public var partition: String?
        /// `--time` (e.g. `2:00:00`), nil for the partition's default.
        public var time: String?
        /// `--mem` (e.g. `8G`), nil for the default.
        public var memory: String?
        /// Further `#SBATCH` options, each one argument (e.g. `--gres=gpu:1`).
        public var extra: [String]

        /// Creates resources.
        public init(partition: String? = nil, time: String? = nil, memory: String? = nil, extra: [String] = []) {
            self.partition = partition
            self.time = time
            self.memory = memory
            self.extra = extra
        }
    }

    /// The resources every job asks for.
    public let resources: Resources

    public var name: String { "slurm" }

    /// Creates a back end asking for `resources`.
    public init(resources: Resources = Resources()) {
        self.resources = resources
    }

    /// True when `sbatch` is on PATH.
    public static var isAvailable: Bool { Command.find("sbatch") != nil }

    public func submitArray(_ command: JobCommand, count: Int) throws -> String {
        try submit(script(command, options: ["--array=0-\(count - 1)"], task: "${SLURM_ARRAY_TASK_ID}", log: "%a"), to: command.script)
    }

    public func submitFinalize(_ command: JobCommand, after arrayID: String) throws -> String {
        try submit(script(command, options: ["--dependency=afterok:\(arrayID)", "--kill-on-invalid-dep=yes"], task: "", log: ""),
                   to: command.script)
    }

    public func cancel(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        _ = try Command.check("scancel", ids)
    }

    public func states(of id: String) throws -> [JobState] {
        let result = try Command.run("scontrol", ["-o", "show", "job", id])
        // A job the controller has forgotten (or never knew) is "Invalid job id".
        guard result.status == 0 else { return [] }
        return result.output.split(separator: "\n").compactMap { line in
            var fields: [String: String] = [:]
            for token in line.split(separator: " ") {
                let pair = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            guard let state = fields["JobState"] else { return nil }
            let reason = fields["Reason"].flatMap { $0 == "None" ? nil : $0 }
            return JobState(task: fields["ArrayTaskId"].flatMap { Int($0) }, state: state, reason: reason)
        }
    }

    /// The batch script of `command`: `#SBATCH` options, then the command with `taskToken`
    /// replaced by the shell expression `task` (arguments) and `log` (Slurm's file pattern).
    func script(_ command: JobCommand, options: [String], task: String, log: String) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=\(command.name)",
                     "#SBATCH --output=\(JobCommand.substituting(command.log, task: log))",
                     "#SBATCH --chdir=\(command.workingDirectory)"]
        if let partition = resources.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = resources.time { lines.append("#SBATCH --time=\(time)") }
        if let memory = resources.memory { lines.append("#SBATCH --mem=\(memory)") }
        for option in options + resources.extra { lines.append("#SBATCH \(option)") }
        let words = command.arguments.map { argument in
            argument.components(separatedBy: JobCommand.taskToken).map(Command.shellQuoted).joined(separator: "\"\(task)\"")
        }
        lines.append("exec " + words.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    private func submit(_ script: String, to path: String) throws -> String {
        try AtomicFile.write(script, to: path)
        let output = try Command.check("sbatch", ["--parsable", path])
        // --parsable prints "JOBID" or "JOBID;CLUSTER".
        guard let id = output.split(whereSeparator: \.isNewline).last?.split(separator: ";").first.map(String.init),
              Int(id) != nil else {
            throw ClusterError.scheduler(command: "sbatch --parsable \(path)", status: 0, output: "no job id in its output: \(output)")
        }
        return id
    }
}
