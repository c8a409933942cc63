import ArgumentParser
import EMConfiguration
import EMPipeline
import Foundation

/// `emflow validate PIPELINE`: checks a pipeline definition without running anything.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline definition (YAML) and its inputs without running or writing anything.",
        discussion: """
        Every problem is listed with its file, line, stage and parameter: malformed YAML, unknown stage kinds or \
        parameters (with suggestions), wrong value types, missing inputs, incompatible shapes, cycles between \
        stages. A training configuration (as `emflow train` reads) is checked as such. Exit status 1 when there \
        is any problem.

        Examples:
          emflow validate pipelines/threshold-components.yaml \\
              --set input=pred.zarr/probabilities --set output=out.zarr
          emflow validate pipelines/train-vnc-synapse.yaml
        """
    )

    @OptionGroup var definition: PipelineArguments

    func run() throws {
        if TrainingConfigurationReader.isTrainingConfiguration(file: definition.pipeline) {
            do {
                let reading = try TrainingConfigurationReader.load(definition.pipeline)
                reading.reportDeprecations()
                let configuration = reading.configuration
                print("\(definition.pipeline): valid training configuration (\(configuration.steps) steps into \(configuration.output))")
                return
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let pipeline = try definition.load()
        print("\(pipeline.file): valid pipeline '\(pipeline.name)', \(pipeline.stages.count) stages")
        for variable in pipeline.variables {
            print("  var \(variable.name) = \(variable.value)\(variable.overridden ? "  (--set)" : "")")
        }
        for stage in pipeline.stages {
            let inputs = (stage.inputs.sorted { $0.key < $1.key }.map { "\($0.key) <- \($0.value)" }
                + stage.references.sorted { $0.key < $1.key }.map { "\($0.key) after \($0.value)" }).joined(separator: ", ")
            let output = stage.output.map { "\($0.shape) \($0.dataType)" } ?? "-"
            print("  \(stage.name) (\(stage.kind.name))\(inputs.isEmpty ? "" : ": " + inputs) -> \(output)")
        }
    }
}

/// The pipeline file and `--set` overrides shared by `validate` and `run`.
struct PipelineArguments: ParsableArguments {
    @Argument(help: "The pipeline definition, e.g. pipelines/threshold-components.yaml.")
    var pipeline: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a pipeline variable (repeatable).", valueName: "name=value"))
    var assignments: [String] = []

    /// Loads and validates the pipeline; prints every problem and exits with status 1 when
    /// there is any.
    func load() throws -> Pipeline {
        do {
            let loaded = try PipelineLoader.load(file: pipeline, overrides: try assignments.map(VariableOverride.parse))
            for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            return loaded
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
