import ArgumentParser
import EMCluster
import Foundation

/// `emflow status RUN_DIR`: where a submitted run stands.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a submitted run: blocks done, pending and failed per output, failed shards and their logs.",
        discussion: """
        Reads the done markers beside the outputs, the reports the shards and the finalize job write when they end, and what the scheduler still knows of the jobs.

        Examples:
          emflow status out.zarr/mask/.emflow-run
          emflow status out.zarr/mask/.emflow-run --json
        """
    )

    @Argument(help: "The run directory (OUTPUT/.emflow-run, printed by `emflow submit`).")
    var runDirectory: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let status = try ClusterStatusPrinter.read(RunDirectory(path: runDirectory))
        if json {
            let data = try JSONSerialization.data(withJSONObject: status.jsonObject, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(status.text)
        }
    }
}

/// `emflow cancel RUN_DIR`: cancels the jobs of a submitted run.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel the jobs of a submitted run (finished blocks stay done; submit again to resume).",
        discussion: """
        Examples:
          emflow cancel out.zarr/mask/.emflow-run
        """
    )

    @Argument(help: "The run directory (OUTPUT/.emflow-run).")
    var runDirectory: String

    func run() throws {
        do {
            let ids = try ClusterRun.cancel(RunDirectory(path: absolute(runDirectory)))
            print("cancelled jobs \(ids.joined(separator: ", "))")
        } catch {
            throw failure("cancel", "\(error)")
        }
    }
}

/// Reads a run's status, reporting errors the command-line way.
enum ClusterStatusPrinter {
    static func read(_ directory: RunDirectory) throws -> RunStatus {
        do { return try RunStatus.read(RunDirectory(path: absolute(directory.path))) } catch {
            throw failure("status", "\(error)")
        }
    }
}

/// `path` made absolute against the current directory.
private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
