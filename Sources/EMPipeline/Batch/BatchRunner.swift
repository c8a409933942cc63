import EMStorage
import Foundation
import Yams

/// How one volume of a batch run ended.
public struct BatchOutcome: Sendable {
    /// What happened to a volume.
    public enum Status: String, Sendable {
        /// Blocks were computed in this run and none failed.
        case done
        /// Every block had been finished by an earlier run.
        case skipped
        /// The pipeline was invalid for this volume, could not run, or some block failed.
        case failed
    }

    /// The volume.
    public var item: BatchItem
    /// How it ended.
    public var status: Status
    /// The run's summary (nil when the pipeline did not run).
    public var summary: RunSummary?
    /// Why it failed, when it did.
    public var message: String?
}

/// Runs one pipeline once per volume (`emflow run --each`): the input variable takes each
/// volume's address and `name` (when the pipeline declares it) the volume's name, so that each
/// volume goes into its own outputs. A volume that fails does not stop the others.
public struct BatchRunner {
    /// The variable set to each volume's address.
    public var variable: String
    /// The variable set to each volume's name (used when the pipeline declares it).
    public static let nameVariable = "name"

    private let file: String
    private let overrides: [VariableOverride]

    /// Creates a runner of the pipeline in `file` with `overrides` for the other variables.
    public init(file: String, overrides: [VariableOverride], variable: String = "input") {
        self.file = file
        self.overrides = overrides
        self.variable = variable
    }

    /// Validates the pipeline for every volume, checks that no two volumes share an output,
    /// then runs the valid ones in turn.
    ///
    /// - Throws: `PipelineError` when the pipeline does not declare the input variable, the
    ///   variables are also given with `--set`, or two volumes would write the same output;
    ///   nothing has run then.
    public func run(_ items: [BatchItem], options: RunOptions, report: (BatchOutcome) -> Void = { _ in }) throws -> [BatchOutcome] {
        let declared = PipelineLoader.declaredVariables(file: file)
        guard declared.contains(variable) else {
            throw PipelineError.execution("\(file): --each sets the variable '\(variable)', which the pipeline does not declare under vars:"
                + (declared.isEmpty ? "" : " (it declares \(declared.joined(separator: ", ")))"))
        }
        let batchVariables = declared.contains(Self.nameVariable) ? [variable, Self.nameVariable] : [variable]
        if let clash = overrides.first(where: { batchVariables.contains($0.name) }) {
            throw PipelineError.execution("--set \(clash.name) cannot be combined with --each, which sets it for each volume")
        }

        var loaded: [(BatchItem, Result<Pipeline, Error>)] = []
        var writers: [String: String] = [:]
        for item in items {
            var assignments = overrides + [VariableOverride(name: variable, value: item.address)]
            if batchVariables.count > 1 { assignments.append(VariableOverride(name: Self.nameVariable, value: item.name)) }
            let result = Result { try PipelineLoader.load(file: file, overrides: assignments) }
            if case let .success(pipeline) = result {
                for output in Self.outputs(of: pipeline) {
                    if let other = writers[output] {
                        throw PipelineError.execution("volumes '\(other)' and '\(item.name)' would both write '\(output)': "
                            + "put ${\(Self.nameVariable)} in the output paths (declare it under vars:)")
                    }
                    writers[output] = item.name
                }
            }
            loaded.append((item, result))
        }

        var outcomes: [BatchOutcome] = []
        for (item, result) in loaded {
            let outcome: BatchOutcome
            switch result {
            case let .failure(error):
                outcome = BatchOutcome(item: item, status: .failed, summary: nil, message: "\(error)")
            case let .success(pipeline):
                do {
                    let summary = try PipelineRunner(pipeline: pipeline, options: options).run()
                    let done = summary.passes.reduce(0) { $0 + $1.done }
                    let status: BatchOutcome.Status = !summary.succeeded ? .failed : done > 0 ? .done : .skipped
                    outcome = BatchOutcome(item: item, status: status, summary: summary,
                                           message: summary.succeeded ? nil : "some blocks failed")
                } catch {
                    outcome = BatchOutcome(item: item, status: .failed, summary: nil, message: "\(error)")
                }
            }
            report(outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// The stores, files and directories a pipeline writes.
    static func outputs(of pipeline: Pipeline) -> [String] {
        pipeline.stages.flatMap(\.outputs)
    }

    /// A table: volume, status, blocks done, skipped and failed, and why a volume failed.
    public static func summary(_ outcomes: [BatchOutcome]) -> String {
        var rows = [["volume", "status", "done", "skipped", "failed"]]
        for outcome in outcomes {
            let passes = outcome.summary?.passes ?? []
            rows.append([outcome.item.name, outcome.status.rawValue, String(passes.reduce(0) { $0 + $1.done }),
                         String(passes.reduce(0) { $0 + $1.skipped }), String(passes.reduce(0) { $0 + $1.failed })])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        for outcome in outcomes where outcome.status == .failed {
            lines.append("\(outcome.item.name) (\(outcome.item.address)): \(outcome.message ?? "failed")")
        }
        let counts = [BatchOutcome.Status.done, .skipped, .failed].map { status in "\(outcomes.filter { $0.status == status }.count) \(status.rawValue)" }
        lines.append("\(outcomes.count) volumes: " + counts.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

extension PipelineLoader {
    /// The variable names a pipeline file declares under `vars:` (empty when it declares none
    /// or cannot be read; loading it reports why).
    public static func declaredVariables(file path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              let root = try? Yams.compose(yaml: text), let vars = root.mapping?["vars"]?.mapping else { return [] }
        return vars.keys.compactMap(\.string)
    }
}
