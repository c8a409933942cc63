import ArgumentParser
import EMPipeline
import EMStorage
import EMVolume
import Foundation

/// `emflow downsample INPUT OUTPUT`: the downsample stage on its own, for a volume already
/// stored (a multiscale pyramid for viewers).
struct DownsampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "downsample",
        abstract: "Build a multiscale pyramid (OME-Zarr) of a stored volume, resumable.",
        discussion: """
        Runs a pipeline of one downsample stage (see `emflow stages downsample`): OUTPUT is a Zarr group that gets \
        arrays 0 (the volume), 1, 2, ... and one OME-Zarr multiscales entry listing them (0.4 for --zarr-version 2, \
        0.5 for 3). Mean for images, mode for labels (--method auto picks by element type); by default each level \
        halves the axes whose voxels are finest. Running the same command again after an interruption keeps the \
        finished chunks.

        Examples:
          emflow downsample data.h5:volumes/raw pyramid.zarr/raw --levels 4
          emflow downsample out.zarr/labels pyramid.zarr/labels --method mode --factors 2,2,2
        """
    )

    @Argument(help: "The volume, e.g. data.h5:volumes/raw or out.zarr/pred.")
    var input: String

    @Argument(help: "The Zarr group of the pyramid, e.g. pyramid.zarr/raw.")
    var output: String

    @Option(help: "Levels below the full resolution.")
    var levels = 3

    @Option(help: ArgumentHelp("Factor z,y,x from each level to the next (default: by voxel size).", valueName: "z,y,x"))
    var factors: Coordinate?

    @Option(help: "mean (images), mode (labels) or auto (mode for uint32 and uint64).")
    var method = DownsampleStage.Method.auto

    @Option(help: ArgumentHelp("Chunk shape z,y,x of every level (default: the volume's, capped at 64,256,256).", valueName: "z,y,x"))
    var chunks: Coordinate?

    @Option(name: .customLong("zarr-version"), help: "Zarr format: 2 (OME-Zarr 0.4) or 3 (OME-Zarr 0.5).")
    var zarrVersion = 2

    /// The one-stage pipeline the options describe, its addresses quoted as JSON strings
    /// (which YAML reads as they are).
    var pipelineYAML: String {
        func quoted(_ text: String) -> String { (try? JSONFiles.text(text)) ?? "\"\"" }
        var lines = ["stages:", "  pyramid:", "    kind: downsample", "    input: \(quoted(input))", "    output: \(quoted(output))",
                     "    levels: \(levels)", "    method: \(method.rawValue)", "    zarr_version: \(zarrVersion)"]
        if let factors { lines.append("    factors: \(factors)") }
        if let chunks { lines.append("    chunks: \(chunks)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func run() throws {
        let pipeline: Pipeline
        do {
            pipeline = try PipelineLoader.load(yaml: pipelineYAML, file: "emflow downsample")
        } catch {
            throw failure("downsample", "\(error)")
        }
        try runReporting("downsample") { try PipelineRunner(pipeline: pipeline, options: RunOptions(version: EMFlowVersion.current)).run() }
    }
}

extension DownsampleStage.Method: ExpressibleByArgument {}
