import ArgumentParser
import EMConfiguration
import EMEvaluation
import EMNN
import EMProgress
import Foundation

/// `emflow train CONFIG.yaml`: trains a U-Net from a YAML configuration, with a progress bar,
/// a JSON-lines loss log, validation, best/last checkpoints and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a 3D U-Net from a YAML configuration.",
        discussion: """
        The configuration names the image and mask addresses, the patch shape, batch, steps, network, optimizer, \
        loss, augmentation and validation (pipelines/train-vnc-synapse.yaml is an annotated example). Every step is appended to OUTPUT/log.jsonl; \
        OUTPUT/last holds the latest checkpoint and OUTPUT/best the one with the highest validation PR-AUC. \
        --resume OUTPUT/last continues an interrupted run exactly where it stopped. With a 'pruning' block, each mask \
        refresh adds its diagnostics to the step's log line and OUTPUT/balance.svg plots the last refresh's \
        log((1 - a) / a) against fan-out with the beta lines.

        Examples:
          emflow train pipelines/train-vnc-synapse.yaml
          emflow train pipelines/train-vnc-synapse.yaml --steps 4000 \\
              --resume runs/vnc-synapse/last
        """
    )

    @Argument(help: "The training configuration (YAML).")
    var config: String

    @Option(help: "Train until this many steps in total (overrides 'steps').")
    var steps: Int?

    @Option(help: ArgumentHelp("Write checkpoints and the log here (overrides 'output').", valueName: "dir"))
    var output: String?

    @Option(help: ArgumentHelp("Continue from this checkpoint directory (e.g. OUTPUT/last).", valueName: "dir"))
    var resume: String?

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        do {
            let reading = try TrainingConfigurationReader.load(config)
            reading.reportDeprecations()
            var configuration = reading.configuration
            if let steps { configuration.steps = steps }
            if let output { configuration.output = output }
            let session = try TrainingSession(configuration: configuration, resume: resume.map { URL(fileURLWithPath: $0) })
            let progress = ProgressReporter(label: "train", total: max(configuration.steps - session.step, 0), unit: "steps",
                                            sink: quiet ? .silent : ProgressReporter.automaticSink)
            let records = try session.run { record in
                progress.advance()
                if let v = record.validation, !quiet {
                    FileHandle.standardError.write(Data(String(format: "step %d: loss %.4f, validation loss %.4f, F1 %.3f (at %.3f), PR-AUC %.3f\n",
                                                               record.step, record.loss, v.loss, v.bestF1, v.bestThreshold, v.averagePrecision).utf8))
                }
            }
            progress.finish()
            if let refresh = records.last(where: { $0.pruning != nil })?.pruning {
                try Self.writeBalancePlot(refresh, to: URL(fileURLWithPath: configuration.output).appendingPathComponent("balance.svg"))
            }
            let last = records.last.map { String(format: "%.4f", $0.loss) } ?? "-"
            print("trained to step \(session.step) (final loss \(last)); log \(configuration.output)/\(TrainingSession.logFile), "
                + "checkpoints \(configuration.output)/\(TrainingSession.lastDirectory) and /\(TrainingSession.bestDirectory)")
        } catch {
            throw failure("train", "\(error)")
        }
    }
}

extension TrainCommand {
    /// Writes the selectivity-audience plot of one pruning refresh.
    static func writeBalancePlot(_ refresh: PruningRecord, to url: URL) throws {
        let units = refresh.units.compactMap { unit in unit.logOdds.map { (Double(unit.fanOut), $0) } }
        let title = String(format: "%@ at step %d, density %.3f", refresh.method, refresh.step, refresh.density)
        let svg = BalancePlot.svg(title: title, fanOut: units.map(\.0), logOdds: units.map(\.1), beta: refresh.beta,
                                  fittedBeta: refresh.fittedBeta)
        try Data(svg.utf8).write(to: url, options: .atomic)
    }
}
