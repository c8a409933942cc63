import ArgumentParser
import EMCluster
import Foundation

/// `emflow submit PIPELINE --slurm | --local N`: runs a pipeline as an array of sharded
/// workers and a finalize job.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a pipeline on a Slurm cluster (or as local processes): sharded workers, then a finalize job.",
        discussion: """
        Writes the task (task.json) into a run directory beside the first output (OUTPUT/.emflow-run), creates the \
        outputs, then submits an array of N workers (`emflow worker --task SPEC --shard I/N`), each writing its share \
        of the blocks, and a finalize job that runs when every worker succeeded (merges across blocks such as \
        connected components). Prints the job ids. Submitting again redoes only the unfinished blocks. \
        See `emflow status RUN_DIR` and `emflow cancel RUN_DIR`.

        With --local N the workers run as N processes of this machine and the command returns when the run ends \
        (exit status 1 when it failed).

        Examples:
          emflow submit pipelines/synapses.yaml --slurm --workers 16 --partition gpu \\
              --time 2:00:00 --sbatch-arg=--gres=gpu:1 \\
              --set input=/data/vol.h5:volumes/raw \\
              --set truth=/data/vol.h5:volumes/labels/synapse \\
              --set model=runs/vnc-synapse/best
          emflow submit pipelines/threshold-components.yaml --local 4 \\
              --set input=pred.zarr/probabilities --set output=out.zarr
        """
    )

    @OptionGroup var definition: PipelineArguments

    @Flag(help: "Submit to Slurm (sbatch).")
    var slurm = false

    @Option(help: ArgumentHelp("Run N worker processes on this machine instead of a scheduler.", valueName: "N"))
    var local: Int?

    @Option(help: ArgumentHelp("Number of workers (array tasks) for --slurm.", valueName: "N"))
    var workers = 4

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: ArgumentHelp("Slurm time limit per job, e.g. 2:00:00.", valueName: "T"))
    var time: String?

    @Option(help: ArgumentHelp("Slurm memory per job, e.g. 8G.", valueName: "M"))
    var mem: String?

    @Option(name: .customLong("sbatch-arg"), help: ArgumentHelp("A further sbatch option for every job, e.g. --sbatch-arg=--gres=gpu:1 (repeatable).", valueName: "ARG"))
    var sbatchArguments: [String] = []

    @Option(help: ArgumentHelp("The emflow executable the jobs run (default: this one).", valueName: "path"))
    var emflow: String?

    func validate() throws {
        guard slurm != (local != nil) else { throw ValidationError("give exactly one of --slurm and --local N") }
        if let local, local < 1 { throw ValidationError("--local needs at least 1 process") }
        if workers < 1 { throw ValidationError("--workers needs at least 1") }
    }

    func run() throws {
        let backend: ClusterBackend = slurm
            ? SlurmBackend(resources: SlurmBackend.Resources(partition: partition, time: time, memory: mem, extra: sbatchArguments))
            : LocalBackend()
        let submission: ClusterRun.Submission
        do {
            submission = try ClusterRun.submit(pipelineFile: definition.pipeline, overrides: definition.assignments,
                                               shards: local ?? workers, executable: try emflow ?? Self.currentExecutable(),
                                               version: EMFlowVersion.current, backend: backend)
        } catch {
            throw failure("submit", "\(error)")
        }
        let jobs = submission.jobs
        print("run directory: \(submission.directory.path)")
        print("workers: job \(jobs.array) (\(jobs.shards) shards)")
        print("finalize: job \(jobs.finalize)")
        if local != nil {
            let status = try ClusterStatusPrinter.read(submission.directory)
            print(status.text)
            if !status.isComplete { throw ExitCode(1) }
        }
    }

    /// The absolute path of the running emflow.
    static func currentExecutable() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        if let path = Bundle.main.executablePath { return path }
        throw ValidationError("cannot tell where this emflow is: give --emflow PATH")
    }
}
