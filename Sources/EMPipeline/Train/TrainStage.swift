import EMConfiguration
import EMNN
import EMStores
import EMStorage
import EMVolume
import Foundation
import Yams

/// `kind: train`: trains a U-Net before the blockwise stages run; a predict stage uses the
/// result with `model: <this stage's name>`.
///
/// The stage's keys are those of an `emflow train` configuration file (`TrainingConfiguration`),
/// read by the same `TrainingConfigurationReader`, so both take and check exactly the same keys.
public struct TrainStage: StageKind {
    /// The value provenance files and fingerprints record: the configuration as JSON.
    static let recordKey = "configuration"

    /// A train stage's parameters: its training configuration.
    public struct Parameters: Sendable {
        /// The configuration, as `emflow train` would read it from a file.
        public var configuration: TrainingConfiguration
        /// The keys written in the older camelCase spelling.
        public var deprecations: [TrainingConfigurationReader.Problem]
    }

    /// Creates the kind.
    public init() {}

    /// Documentation of the top-level training keys (snake_case). The stage's parameters are
    /// exactly `TrainingConfiguration.keys`: a key added to the configuration (such as a
    /// `pruning` section) is accepted and listed at once, with a generic line until it gets one here.
    private static let documentation: [String: (ParameterType, Bool, String)] = [
        "raw": (.existingStore, true, "Image store address, e.g. train.h5:volumes/raw."),
        "label": (.existingStore, true, "Foreground mask store address, e.g. train.h5:volumes/labels/synapse."),
        "train_region": (.region, false, "Region z0:z1,y0:y1,x0:x1 to train on (default: the whole volume); it must not overlap a validation region of the same image."),
        "validation": (.text, false, "Mapping: raw, label, region, every, block_shape. Validation runs every `every` steps and after the last; the best checkpoint (by PR-AUC) is kept."),
        "patch_shape": (.shape, true, "Input patch shape [z, y, x]; a size the network accepts."),
        "batch_size": (.integer(minimum: 1, maximum: nil), false, "Patches per step (default 1)."),
        "steps": (.integer(minimum: 0, maximum: nil), true, "Optimiser steps in total."),
        "foreground_fraction": (.number(minimum: 0, maximum: 1), false, "Fraction of patches centred on a foreground voxel."),
        "seed": (.integer(minimum: 0, maximum: nil), false, "Seed of patch sampling and augmentation."),
        "network": (.text, true, "Mapping: the U-Net architecture (input_channels, output_channels, depth, base_width, width_multiplier, kernel_sizes, pooling_factors, convolutions_per_level, padding, normalization_groups, initialization, input_normalization)."),
        "optimizer": (.text, false, "Mapping: Adam settings (learning_rate, beta1, beta2, epsilon, weight_decay, gradient_clip_norm, average_decay, schedule: constant or cosine)."),
        "loss": (.text, false, "Mapping: loss weights (BCE, Dice, positive weight)."),
        "augmentation": (.text, false, "Mapping: flips, rotations, intensity changes."),
        "output": (.text, true, "Directory for checkpoints (last/, best/) and the loss log (log.jsonl)."),
        "checkpoint_every": (.integer(minimum: 1, maximum: nil), false, "Save last/ every this many steps (and always at the end)."),
        "threads": (.integer(minimum: 1, maximum: nil), false, "Compute threads (default: all cores)."),
        "pruning": (.text, false, "Mapping: pruning during training (Budgeted Broadcast), as `emflow train` reads it."),
    ]

    public var schema: StageSchema {
        let parameters = TrainingConfiguration.keys.map(KeyStyle.snake).sorted().map { key -> ParameterSchema in
            let (type, required, doc) = Self.documentation[key] ?? (.text, false, "A section of the training configuration (see `emflow train`).")
            return ParameterSchema(name: key, type: type, defaultValue: nil, required: required, doc: doc)
        }
        return StageSchema(kind: "train", summary: "Trains a 3D U-Net (the keys of an `emflow train` configuration) before the blockwise stages run.",
                           details: "A predict stage of the same pipeline uses the trained network with `model: <train stage name>`: the best checkpoint (output/best) when validation is configured, else the last (output/last). A re-run of the same configuration skips the training; an interrupted one resumes from output/last.",
                           parameters: parameters, isSink: true)
    }

    public var phase: StagePhase { .beforeBlocks }

    public var readsMapping: Bool { true }

    /// The stage's mapping read as an `emflow train` configuration file is.
    public func parameters(_ values: StageValues) throws -> Parameters {
        guard let mapping = values.mapping else { preconditionFailure("a train stage is read from its mapping") }
        let reading = try TrainingConfigurationReader.read(mapping, file: values.file)
        return Parameters(configuration: reading.configuration, deprecations: reading.deprecations)
    }

    public func recordedValues(_ parameters: Parameters, validated: [String: ParameterValue]) -> [String: ParameterValue] {
        [Self.recordKey: .text((try? JSONFiles.text(parameters.configuration)) ?? "")]
    }

    public func writtenFiles(_ parameters: Parameters) -> [String] { [parameters.configuration.output] }

    public func warnings(_ parameters: Parameters, stage: String) -> [PipelineDiagnostic] {
        parameters.deprecations.map { note in
            PipelineDiagnostic(location: SourceLocation(file: note.file, line: note.line ?? 0), stage: stage, key: note.key, message: note.message)
        }
    }

    /// The checkpoint directory a predict stage uses: `best` with validation, else `last`.
    static func checkpoint(_ configuration: TrainingConfiguration) -> String {
        configuration.output + "/" + (configuration.validation == nil ? TrainingSession.lastDirectory : TrainingSession.bestDirectory)
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        let configuration = parameters.configuration
        let validation = configuration.validation
        var volumes: [String: VolumeDescriptor] = [:]
        for (key, text) in [("raw", configuration.raw), ("label", configuration.label),
                            ("validation.raw", validation?.raw), ("validation.label", validation?.label)] {
            guard let text else { continue }
            do {
                let m = try Stores.open(try StoreAddress.parse(text)).metadata
                volumes[key] = VolumeDescriptor(metadata: m)
            } catch {
                check.error("missing input: cannot open '\(text)': \(error)", parameter: key.components(separatedBy: ".")[0])
                return nil
            }
        }
        guard let raw = volumes["raw"], let label = volumes["label"] else { return nil }
        let validationRaw = volumes["validation.raw"] ?? raw, validationLabel = volumes["validation.label"] ?? label
        // The shapes and regions TrainingSession would refuse only once it loads the data.
        let problems: [(Bool, String, String)] = [
            (label.shape != raw.shape, "the label has shape \(label.shape), the raw image \(raw.shape): they must match", "label"),
            (validationLabel.shape != validationRaw.shape,
             "the validation label has shape \(validationLabel.shape), its raw image \(validationRaw.shape): they must match", "validation"),
            (!Self.region(configuration.trainRegion, fitsIn: raw.shape), "train_region \(configuration.trainRegion ?? "") is not inside the raw image of shape \(raw.shape)", "train_region"),
            (!Self.region(validation?.region, fitsIn: validationRaw.shape),
             "validation region \(validation?.region ?? "") is not inside the validation image of shape \(validationRaw.shape)", "validation"),
        ]
        for (failed, message, parameter) in problems where failed {
            check.error(message, parameter: parameter)
            return nil
        }
        return raw
    }

    /// True when `text` (a region already checked to parse) is absent or lies inside `shape`.
    private static func region(_ text: String?, fitsIn shape: Coordinate) -> Bool {
        guard let text, let box = try? Box.parse(text) else { return true }
        return Box(shape: shape).contains(box)
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Trainer(configuration: parameters.configuration)
    }
}

/// Runs a training session to the configured number of steps.
final class Trainer: StageStep {
    private let configuration: TrainingConfiguration

    init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    var outputDirectory: String { configuration.output }
    var reusesFinishedResult: Bool { true }

    /// The state of the training and validation volumes (`Stores.contentState`): a finished
    /// training is not reused when its data was regenerated at the same addresses.
    var contentHash: String? {
        let addresses = [configuration.raw, configuration.label, configuration.validation?.raw, configuration.validation?.label]
        let states = addresses.compactMap { $0 }.map { text in (try? StoreAddress.parse(text)).map(Stores.contentState) ?? "unparsed \(text)" }
        return Fingerprint.of("training-data|" + states.joined(separator: "|"))
    }

    func run(resume: Bool) throws {
        let last = URL(fileURLWithPath: configuration.output).appendingPathComponent(TrainingSession.lastDirectory)
        try CheckpointFile.recover(last)
        let resumable = resume && FileManager.default.fileExists(atPath: last.appendingPathComponent(CheckpointFile.model).path)
        let session = try TrainingSession(configuration: configuration, resume: resumable ? last : nil)
        try session.run()
    }
}
