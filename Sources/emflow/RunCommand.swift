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
        """
    )

    @OptionGroup var definition: PipelineArguments

    @Option(help: ArgumentHelp("Write JSON-lines events (passes, blocks, summary) to this file.", valueName: "file"))
    var events: String?

    @Flag(help: "No progress bar.")
    var quiet = false

    func run() throws {
        let pipeline = try definition.load()
        let log = try events.map { try EventLog(path: $0) } ?? .disabled
        defer { log.close() }
        let progress: ProgressReporter.Sink = quiet || isatty(STDERR_FILENO) == 0 ? .silent : .terminal
        let summary: RunSummary
        do {
            summary = try PipelineRunner(pipeline: pipeline, options: RunOptions(version: EMFlowVersion.current, events: log, progress: progress)).run()
        } catch {
            FileHandle.standardError.write(Data("emflow run: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(summary)
        if !summary.succeeded {
            FileHandle.standardError.write(Data("emflow run: some blocks failed; run the same command again to retry them\n".utf8))
            throw ExitCode(1)
        }
    }
}
