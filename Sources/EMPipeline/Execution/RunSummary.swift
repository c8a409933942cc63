import Foundation

/// A block that failed, and why.
public struct BlockFailure: Hashable, Sendable, CustomStringConvertible {
    /// The block's id in its grid.
    public var block: Int
    /// The last error (or why the block was not attempted).
    public var message: String

    public var description: String { "block \(block): \(message)" }
}

/// How one pass of one stage went: blocks done now, skipped (done before), failed.
public struct PassSummary: Hashable, Sendable {
    /// The stage.
    public var stage: String
    /// The pass (`write` for stores, or a preparation such as `statistics`, `label`).
    public var pass: String
    /// Blocks finished in this run.
    public var done = 0
    /// Blocks found finished by an earlier run.
    public var skipped = 0
    /// Blocks that failed after every retry, or could not be attempted.
    public var failures: [BlockFailure] = []

    /// Number of failed blocks.
    public var failed: Int { failures.count }
}

/// The outcome of a run: one line per stage pass.
public struct RunSummary: Sendable, CustomStringConvertible {
    /// Every pass, in the order they ran.
    public var passes: [PassSummary]

    /// True when no block failed.
    public var succeeded: Bool { passes.allSatisfy { $0.failed == 0 } }

    /// The pass of `stage` called `pass`.
    public func pass(_ stage: String, _ pass: String) -> PassSummary? {
        passes.first { $0.stage == stage && $0.pass == pass }
    }

    /// A table: stage, pass, done, skipped, failed; then the first failures.
    public var description: String {
        let rows = passes.map { [$0.stage, $0.pass, String($0.done), String($0.skipped), String($0.failed)] }
        let header = ["stage", "pass", "done", "skipped", "failed"]
        let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var lines = [line(header)] + rows.map(line)
        for pass in passes where pass.failed > 0 {
            for failure in pass.failures.prefix(5) { lines.append("\(pass.stage) (\(pass.pass)): \(failure)") }
            if pass.failed > 5 { lines.append("\(pass.stage) (\(pass.pass)): ... and \(pass.failed - 5) more failed blocks") }
        }
        return lines.joined(separator: "\n")
    }

    /// The summary as JSON-compatible objects (for events).
    var jsonObject: [[String: Any]] {
        passes.map { ["stage": $0.stage, "pass": $0.pass, "done": $0.done, "skipped": $0.skipped, "failed": $0.failed] }
    }
}
