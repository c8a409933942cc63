import ArgumentParser
import EMPipeline
import EMProgress
import Foundation

/// `emflow run PIPELINE`: validates a pipeline, then runs it blockwise, resuming an
/// interrupted run of the same configuration.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline (YAML) over its volumes, block by block, resumable.",
        discussion: """
        The whole definition is validated before any work starts. Finished blocks are recorded beside each output, \
        so running the same command again after a crash, kill or Ctrl-C skips them; a changed parameter redoes \
        the blocks it affects. A summary (done, skipped, failed blocks per stage) ends every run; the exit status \
        is 1 when any block failed.

        With --each, the pipeline runs once per volume: its input variable (--each-var, default 'input') takes each \
        address and the variable 'name', when declared, the volume's file stem, so outputs such as \
        out/${name}.zarr/pred are kept apart. A batch summary (done, skipped or failed per volume) ends the run; \
        the exit status is 1 when any volume failed.

        Examples:
          emflow run pipelines/threshold-components.yaml \\
              --set input=pred.zarr/probabilities --set output=out.zarr
          emflow run pipelines/membranes.yaml --set model=runs/membranes/best \\
              --each 'volumes/*.h5:volumes/raw'
        """
    )

    @OptionGroup var definition: PipelineArguments

    @Option(help: ArgumentHelp("Write JSON-lines events (passes, blocks, summary) to this file.", valueName: "file"))
    var events: String?

    @Flag(help: "No progress bar.")
    var quiet = false

    @Option(help: ArgumentHelp("Run once per volume: a glob ('volumes/*.h5:volumes/raw', 'vols/*.zarr/raw') or @list.txt (one address a line).",
                               valueName: "volumes"))
    var each: String?

    @Option(name: .customLong("each-var"), help: ArgumentHelp("The variable --each sets to each volume's address.", valueName: "name"))
    var eachVariable = "input"

    func run() throws {
        let log = try events.map { try EventLog(path: $0) } ?? .disabled
        try withEvents(log) { try runLogged(log) }
    }

    /// Runs `body`, then fails the command when its events could not be written.
    private func withEvents(_ log: EventLog, _ body: () throws -> Void) throws {
        var bodyError: Error?
        do { try body() } catch { bodyError = error }
        log.close()
        if let writeFailure = log.writeFailure {
            throw failure("run", "\(writeFailure)")
        }
        if let bodyError { throw bodyError }
    }

    private func runLogged(_ log: EventLog) throws {
        let progress: ProgressReporter.Sink = quiet || isatty(STDERR_FILENO) == 0 ? .silent : .terminal
        if let each {
            try runBatch(each, options: RunOptions(version: EMFlowVersion.current, events: log, progress: progress))
            return
        }
        let pipeline = try definition.load()
        try runReporting("run", blocksFailed: "some blocks failed; run the same command again to retry them") {
            try PipelineRunner(pipeline: pipeline, options: RunOptions(version: EMFlowVersion.current, events: log, progress: progress)).run()
        }
    }

    private func runBatch(_ specification: String, options: RunOptions) throws {
        let outcomes: [BatchOutcome]
        do {
            let items = try BatchInputs.expand(specification)
            let runner = BatchRunner(file: definition.pipeline, overrides: try definition.assignments.map(VariableOverride.parse), variable: eachVariable)
            outcomes = try runner.run(items, options: options) { outcome in
                report("run", "\(outcome.item.name): \(outcome.status.rawValue)")
            }
        } catch {
            throw failure("run", "\(error)")
        }
        print(BatchRunner.summary(outcomes))
        if outcomes.contains(where: { $0.status == .failed }) {
            throw failure("run", "some volumes failed; run the same command again to retry them")
        }
    }
}
