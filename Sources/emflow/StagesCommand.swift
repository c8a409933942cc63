import ArgumentParser
import EMPipeline
import EMStorage
import Foundation

/// `emflow stages [KIND] [--markdown]`: the stage kinds a pipeline may use and their parameters.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the pipeline stage kinds, or show one kind's parameters.",
        discussion: """
        The kinds and parameters come from the same schemas `emflow validate` checks pipelines against. \
        --markdown prints the whole pipeline reference (top-level keys, execution keys, every stage kind), \
        as README's generated section holds it.

        Examples:
          emflow stages
          emflow stages threshold
          emflow stages --markdown > pipeline-reference.md
        """
    )

    @Argument(help: "A stage kind (e.g. threshold) to show in full.")
    var kind: String?

    @Flag(help: "Print the whole pipeline reference as Markdown.")
    var markdown = false

    func validate() throws {
        guard let kind else { return }
        if markdown { throw ValidationError("--markdown prints the reference of every stage kind; leave out '\(kind)'") }
        if StageKinds.named(kind) == nil {
            throw ValidationError("unknown stage kind '\(kind)'" + Suggestions.hint(for: kind, among: StageSchema.all.map(\.kind)))
        }
    }

    func run() throws {
        if markdown {
            print(PipelineReference.markdown(), terminator: "")
            return
        }
        guard let kind else {
            let width = StageSchema.all.map(\.kind.count).max() ?? 0
            for schema in StageSchema.all {
                print(schema.kind.padding(toLength: width + 2, withPad: " ", startingAt: 0) + schema.summary)
            }
            print("\nemflow stages KIND shows a kind's parameters; emflow stages --markdown prints the full reference.")
            return
        }
        guard let schema = StageKinds.named(kind)?.schema else { preconditionFailure("validate() checked the kind") }
        print("\(schema.kind): \(schema.summary)")
        if !schema.details.isEmpty { print("\n\(schema.details)") }
        print("\nParameters:")
        for parameter in schema.parameters {
            let presence = parameter.required ? "required" : parameter.defaultValue.map { "default \($0)" } ?? "optional"
            print("  \(parameter.name): \(parameter.type) (\(presence))")
            print("      \(parameter.doc)")
        }
    }
}
