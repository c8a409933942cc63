import Foundation

/// Runs the worker tasks as child processes of this machine, all at once, and the finalize job
/// after them when every task succeeded: the code path of a cluster run without a scheduler.
/// `submitFinalize` returns when the run has ended.
public final class LocalBackend: ClusterBackend {
    private var running: [String: [(task: Int?, process: Process)]] = [:]
    private var ended: [String: [JobState]] = [:]
    private var nextID = 1

    public var name: String { "local" }

    /// Creates a back end.
    public init() {}

    public func submitArray(_ command: JobCommand, count: Int) throws -> String {
        let id = newID()
        running[id] = try (0..<count).map { task in (task, try start(command, task: String(task))) }
        return id
    }

    public func submitFinalize(_ command: JobCommand, after arrayID: String) throws -> String {
        let id = newID()
        let array = finish(arrayID)
        guard array.allSatisfy({ $0.state == "COMPLETED" }) else {
            ended[id] = [JobState(task: nil, state: "CANCELLED", reason: "DependencyNeverSatisfied")]
            return id
        }
        running[id] = [(nil, try start(command, task: ""))]
        _ = finish(id)
        return id
    }

    public func cancel(_ ids: [String]) throws {
        for id in ids {
            for (_, process) in running[id] ?? [] where process.isRunning { process.terminate() }
        }
    }

    public func states(of id: String) throws -> [JobState] {
        if let states = ended[id] { return states }
        return (running[id] ?? []).map { JobState(task: $0.task, state: $0.process.isRunning ? "RUNNING" : "COMPLETING") }
    }

    private func newID() -> String {
        defer { nextID += 1 }
        return "local-\(ProcessInfo.processInfo.processIdentifier)-\(nextID)"
    }

    private func start(_ command: JobCommand, task: String) throws -> Process {
        let arguments = command.arguments.map { JobCommand.substituting($0, task: task) }
        let log = JobCommand.substituting(command.log, task: task)
        try FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) else {
            throw ClusterError.runDirectory(path: log, reason: "cannot create the job's log file")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: command.workingDirectory)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ClusterError.scheduler(command: arguments.joined(separator: " "), status: 126, output: "cannot start: \(error.localizedDescription)")
        }
        try? handle.close()
        return process
    }

    /// Waits for every process of job `id` and records how each ended.
    private func finish(_ id: String) -> [JobState] {
        let states = (running[id] ?? []).map { task, process -> JobState in
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal {
                return JobState(task: task, state: "CANCELLED", reason: "signal \(process.terminationStatus)")
            }
            return JobState(task: task, state: process.terminationStatus == 0 ? "COMPLETED" : "FAILED",
                            reason: process.terminationStatus == 0 ? nil : "exit status \(process.terminationStatus)")
        }
        running[id] = nil
        ended[id] = states
        return states
    }
}
