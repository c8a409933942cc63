/// One command a back end runs as a job.
public struct JobCommand: Sendable {
    /// A short job name for the scheduler's listings.
    public var name: String
    /// The program and its arguments. In an array job, `JobCommand.taskToken` stands for the
    /// task's number (0 ..< count).
    public var arguments: [String]
    /// The directory the command runs in.
    public var workingDirectory: String
    /// Where its standard output and error go (`taskToken` allowed, as in `arguments`).
    public var log: String
    /// Where a back end that submits script files keeps this job's script.
    public var script: String

    /// Stands for the array task's number in `arguments` and `log`.
    public static let taskToken = "{task}"

    /// Creates a command.
    public init(name: String, arguments: [String], workingDirectory: String, log: String, script: String) {
        self.name = name
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.log = log
        self.script = script
    }

    /// `text` with `taskToken` replaced by `task`.
    static func substituting(_ text: String, task: String) -> String {
        text.replacingOccurrences(of: taskToken, with: task)
    }
}

/// What a scheduler knows of one job or array task.
public struct JobState: Hashable, Sendable {
    /// The array task's number, nil for a plain job (or array tasks not yet started).
    public var task: Int?
    /// The scheduler's state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
    public var state: String
    /// Why it is in that state (Slurm's Reason, e.g. DependencyNeverSatisfied), when given.
    public var reason: String?

    /// Creates a state.
    public init(task: Int?, state: String, reason: String? = nil) {
        self.task = task
        self.state = state
        self.reason = reason
    }

    /// True while the job waits or runs.
    public var isActive: Bool { ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"].contains(state) }
}

/// A scheduler that runs emflow's worker array and its finalize job. Other schedulers (LSF,
/// Kubernetes indexed jobs) are added as small classes conforming to this protocol.
public protocol ClusterBackend: AnyObject {
    /// The name recorded in the run directory ("slurm", "local").
    var name: String { get }

    /// Submits `count` tasks of `command` (task numbers 0 ..< count) and returns the job id.
    func submitArray(_ command: JobCommand, count: Int) throws -> String

    /// Submits `command` to run once every task of job `arrayID` has succeeded; it never runs
    /// when one failed. Returns the job id.
    func submitFinalize(_ command: JobCommand, after arrayID: String) throws -> String

    /// Cancels the jobs `ids` (tasks still waiting or running end; finished ones are left).
    func cancel(_ ids: [String]) throws

    /// What the scheduler still knows of job `id` (one entry per array task); empty when it
    /// knows nothing any more.
    func states(of id: String) throws -> [JobState]
}

/// The back end that can look after jobs recorded under `name`: Slurm's for "slurm"; a local
/// back end (which knows no jobs of other processes) otherwise.
func backend(named name: String) -> ClusterBackend {
    name == "slurm" ? SlurmBackend() : LocalBackend()
}
