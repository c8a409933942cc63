import ArgumentParser
import EMEvaluation
import EMNN
import EMPipeline
import EMProgress
import Foundation
import Yams

/// `emflow train CONFIG.yaml`: trains a U-Net from a YAML configuration, with a progress bar,
/// a JSON-lines loss log, validation, best/last checkpoints and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a 3D U-Net from a YAML configuration.",
        discussion: """
        The configuration names the image and mask addresses, the patch shape, batch, steps, network, optimizer, \
        loss, augmentation and validation (see TrainingConfiguration). Every step is appended to OUTPUT/log.jsonl; \
        OUTPUT/last holds the latest checkpoint and OUTPUT/best the one with the highest validation PR-AUC. \
        --resume OUTPUT/last continues an interrupted run exactly where it stopped. With a 'pruning' block, each mask \
        refresh adds its diagnostics to the step's log line and OUTPUT/balance.svg plots the last refresh's \
        log((1 - a) / a) against fan-out with the beta lines.
        """
    )

    @Argument(help: "The training configuration (YAML).")
    var config: String

    @Option(help: "Train until this many steps in total (overrides 'steps').")
    var steps: Int?

    @Option(help: ArgumentHelp("Continue from this checkpoint directory (e.g. OUTPUT/last).", valueName: "dir"))
    var resume: String?

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        do {
            var configuration = try TrainingConfigurationFile.load(config)
            if let steps { configuration.steps = steps }
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
            FileHandle.standardError.write(Data("emflow train: \(error)\n".utf8))
            throw ExitCode(1)
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

/// Reading a training configuration from YAML with errors that name the file, line and key.
enum TrainingConfigurationFile {
    /// An error in a configuration file.
    struct Problem: Error, CustomStringConvertible {
        let file: String
        let line: Int?
        let message: String
        var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
    }

    /// Parses, checks keys, decodes and validates `path`.
    static func load(_ path: String) throws -> TrainingConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(file: path, line: nil, message: "cannot read the configuration: \(error.localizedDescription)")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw Problem(file: path, line: nil, message: "the configuration is empty") }
            root = node
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(file: path, line: nil, message: "malformed YAML: \(error)")
        }
        try checkKeys(root, section: "", file: path)
        let configuration: TrainingConfiguration
        do {
            configuration = try YAMLDecoder().decode(TrainingConfiguration.self, from: text)
        } catch let error as DecodingError {
            throw describe(error, root: root, file: path)
        }
        do {
            try configuration.validate()
        } catch {
            throw Problem(file: path, line: nil, message: "\(error)")
        }
        return configuration
    }

    /// Refuses keys a section does not know, with their line and the closest known key.
    static func checkKeys(_ node: Node, section: String, file: String) throws {
        guard let mapping = node.mapping, let known = TrainingConfiguration.sectionKeys[section] else { return }
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "?"
            guard known.contains(name) else {
                let place = section.isEmpty ? "at the top level" : "in '\(section)'"
                throw Problem(file: file, line: key.mark?.line,
                              message: "unknown key '\(name)' \(place)\(Suggestions.hint(for: name, among: known.sorted()))")
            }
            if section.isEmpty { try checkKeys(value, section: name, file: file) }
        }
    }

    /// A decoding error as a problem at the line of the offending key.
    static func describe(_ error: DecodingError, root: Node, file: String) -> Problem {
        func located(_ path: [CodingKey], _ message: String) -> Problem {
            var node = root, line = root.mark?.line
            for key in path {
                if let index = key.intValue, let sequence = node.sequence, index < sequence.count {
                    node = sequence[index]
                } else if let value = node.mapping?[Node(key.stringValue)] {
                    node = value
                } else { break }
                line = node.mark?.line ?? line
            }
            let name = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return Problem(file: file, line: line, message: name.isEmpty ? message : "'\(name)': \(message)")
        }
        switch error {
        case let .keyNotFound(key, context):
            return located(context.codingPath, "missing key '\(key.stringValue)'")
        case let .typeMismatch(type, context):
            return located(context.codingPath, "expected \(type): \(context.debugDescription)")
        case let .valueNotFound(type, context):
            return located(context.codingPath, "expected a value of type \(type)")
        case let .dataCorrupted(context):
            return located(context.codingPath, context.debugDescription)
        @unknown default:
            return Problem(file: file, line: nil, message: "\(error)")
        }
    }
}
