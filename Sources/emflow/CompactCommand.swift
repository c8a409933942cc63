import ArgumentParser
import EMNN
import EMVolume
import EMStorage
import Foundation

/// `emflow compact CHECKPOINT OUTPUT`: exports a pruned U-Net without its dead units.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Export a pruned U-Net checkpoint with its dead units removed.",
        discussion: """
        A unit (output channel) with no kept incoming or no kept outgoing slab is removed from its layer and from \
        every consumer; a constant unit's output is folded into its consumers' biases where that is exact. OUTPUT \
        is an ordinary checkpoint (per-layer widths in config.json) with the same predictions, plus compaction.json: \
        live channels per layer, FLOPs before and after for the --patch input and, with --time, inference times of \
        both networks measured in this run.

        Examples:
          emflow compact runs/pruned/best runs/compact
        """
    )

    @Argument(help: "The pruned checkpoint directory (config.json + model.safetensors).")
    var checkpoint: String

    @Argument(help: "The directory for the compacted checkpoint.")
    var output: String

    @Option(help: ArgumentHelp("Input patch z,y,x for FLOPs and timing (default: the input giving a 16x128x128 output).", valueName: "z,y,x"))
    var patch: Coordinate?

    @Option(help: "Forward passes to time on each network, interleaved (0: no timing).")
    var time: Int = 0

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        do {
            let network = try UNet(checkpoint: URL(fileURLWithPath: checkpoint), threads: threads)
            let (compacted, report) = try Compaction.compact(network, threads: threads)
            let size = try patch ?? network.configuration.inputSize(forOutput: Coordinate(16, 128, 128))
            let shape = TensorShape(batch: 1, channels: network.configuration.inputChannels, spatial: size)
            let before = try network.convolutionFLOPs(for: shape), after = try compacted.convolutionFLOPs(for: shape)
            let directory = URL(fileURLWithPath: output)
            try compacted.save(to: directory)
            var summary = CompactionSummary(report: report, patch: size.components, flopsBefore: before.dense, flopsAfter: after.dense,
                                            keptSlabFLOPsBefore: before.sparse, keptSlabFLOPsAfter: after.sparse)
            if time > 0 {
                let input = try Tensor(shape: shape, values: (0..<shape.elementCount).map { Float(($0 * 7919) % 251) / 251 })
                let times = try NNBenchmark.inference(of: [("masked", network), ("compacted", compacted)], input: input, rounds: time)
                summary.millisecondsBefore = times[0].milliseconds
                summary.millisecondsAfter = times[1].milliseconds
            }
            let data = try JSONFiles.encoder().encode(summary)
            try data.write(to: directory.appendingPathComponent("compaction.json"))
            if json {
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(summary.text)
            }
        } catch {
            throw failure("compact", "\(error)")
        }
    }
}

/// What `emflow compact` writes to OUTPUT/compaction.json.
struct CompactionSummary: Codable {
    var report: CompactionReport
    var patch: [Int]
    var flopsBefore: Double
    var flopsAfter: Double
    var keptSlabFLOPsBefore: Double
    var keptSlabFLOPsAfter: Double
    var millisecondsBefore: Double?
    var millisecondsAfter: Double?

    /// A few lines for the terminal.
    var text: String {
        var lines = ["units \(report.unitsBefore) -> \(report.unitsAfter) (removed \(report.removedWithoutFanOut) without fan-out, "
            + "\(report.removedWithoutFanIn) without fan-in; \(report.constantUnitsKept) constant units kept; "
            + "\(report.placeholderChannels) zero placeholder channels for layers pruned away)"]
        lines += report.layers.map { "  \($0.name): \($0.before) -> \($0.after) channels" }
        lines.append(String(format: "FLOPs on %@: %.3g -> %.3g (kept slabs only: %.3g -> %.3g)", patch.map(String.init).joined(separator: "x"),
                            flopsBefore, flopsAfter, keptSlabFLOPsBefore, keptSlabFLOPsAfter))
        if let a = millisecondsBefore, let b = millisecondsAfter {
            lines.append(String(format: "inference: %.1f ms -> %.1f ms (%.2fx)", a, b, a / b))
        }
        return lines.joined(separator: "\n")
    }
}
