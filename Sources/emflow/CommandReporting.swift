import ArgumentParser
import EMConfiguration
import EMPipeline
import Foundation

/// Says `emflow COMMAND: message` on standard error (progress and results go to standard
/// output, so messages never mix into what a script reads).
func report(_ command: String, _ message: String) {
    FileHandle.standardError.write(Data("emflow \(command): \(message)\n".utf8))
}

/// Says `message` as `report` does and returns the exit code a failed command throws.
func failure(_ command: String, _ message: String) -> ExitCode {
    report(command, message)
    return ExitCode(1)
}

/// Runs a pipeline through `body`, prints its summary, and fails the command (exit 1) when
/// `body` threw or a block failed, saying `blocksFailed` then.
func runReporting(_ command: String, blocksFailed: String = "some blocks failed", _ body: () throws -> RunSummary) throws {
    let summary: RunSummary
    do { summary = try body() } catch { throw failure(command, "\(error)") }
    print(summary)
    if !summary.succeeded { throw failure(command, blocksFailed) }
}

extension TrainingConfigurationReader.Reading {
    /// Says each deprecated key spelling on standard error, as `emflow validate` says a
    /// pipeline's warnings.
    func reportDeprecations() {
        for note in deprecations { FileHandle.standardError.write(Data("warning: \(note)\n".utf8)) }
    }
}
