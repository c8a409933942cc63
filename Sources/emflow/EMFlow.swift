import ArgumentParser
import EMStorage

/// The `emflow` command line: thin over the library layers.
@main
struct EMFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emflow",
        abstract: "Dataflow pipelines over large 3D electron-microscopy volumes.",
        discussion: """
        Volumes are named by one address syntax for every format:
          file.h5:volumes/raw        a dataset in an HDF5 file (CREMI layout)
          out.zarr/pred              an array in a Zarr v2 or v3 hierarchy
          stack.tif, 'slices/*.tif'  a multi-page TIFF or a directory of 2D slices

        First steps:
          emflow generate demo.zarr           a synthetic volume with labels
          emflow info demo.zarr/volumes/raw   its shape, chunks and voxel size
          emflow stages                       the stage kinds a pipeline can use
          emflow validate PIPELINE.yaml       check a pipeline before running it
        """,
        version: EMFlowVersion.current,
        subcommands: [
            InfoCommand.self, ConvertCommand.self, GenerateCommand.self,
            StagesCommand.self, ValidateCommand.self, RunCommand.self,
            SubmitCommand.self, StatusCommand.self, CancelCommand.self, WorkerCommand.self, FinalizeCommand.self,
            TrainCommand.self, CompactCommand.self, EvaluateCommand.self, ReportCommand.self,
            DownsampleCommand.self, BenchCommand.self,
        ]
    )
}

extension EMFlow {
    /// Parses and runs the command line, suggesting the closest subcommand for a misspelt one
    /// (`emflow stagse` says "did you mean 'stages'?").
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if let word = arguments.first, !word.hasPrefix("-"), word != "help", !names.contains(word) {
            exit(withError: ValidationError("unknown command '\(word)'" + Suggestions.hint(for: word, among: names)))
        }
        main(arguments)
    }
}

/// The version this build reports in `--version` and provenance files.
enum EMFlowVersion {
    static let current = "0.1.0"
}
