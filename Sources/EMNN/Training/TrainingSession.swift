import EMVolume
import EMStorage
import Foundation

/// One line of the loss log.
public struct TrainingRecord: Codable, Equatable, Sendable {
    /// The optimiser step this record follows (1 = after the first update).
    public var step: Int
    /// The training loss of the step's batch (before its update).
    public var loss: Float
    /// Its BCE part.
    public var bce: Float
    /// Its Dice part.
    public var dice: Float
    /// Validation metrics when validation ran after this step.
    public var validation: ValidationMetrics?
    /// Seconds since the session started.
    public var seconds: Double
    /// Pruning diagnostics when the masks were refreshed after this step.
    public var pruning: PruningRecord?
}

/// A training run: samples and augments patches, steps the trainer, validates every N steps,
/// keeps the best checkpoint (highest validation PR-AUC) and the last one, and appends every
/// step to `output/log.jsonl`. With `pruning`, a `Pruner` refreshes the masks on its schedule
/// (its diagnostics go into the step's log line) and only checkpoints at the target density
/// compete for `best`.
///
/// Each step's batch depends only on the configuration's seed and the step number, so a run
/// resumed from a checkpoint continues exactly as an uninterrupted one.
public final class TrainingSession {
    /// The settings.
    public let configuration: TrainingConfiguration
    /// The trainer (network and optimiser).
    public let trainer: UNetTrainer
    /// Where training patches come from.
    public let sampler: PatchSampler
    /// Validation data and region, when validating.
    public let validation: (data: TrainingVolume, region: Box)?
    /// The pruning method, when the configuration has a `pruning` block.
    public let pruner: Pruner?
    private let augmenter: Augmenter
    private let outputShape: Coordinate
    private var bestScore: Double

    /// Subdirectory of `output` with the best checkpoint.
    public static let bestDirectory = "best"
    /// Subdirectory of `output` with the latest checkpoint.
    public static let lastDirectory = "last"
    /// The loss log in `output`.
    public static let logFile = "log.jsonl"

    /// Loads the data named by `configuration` from its stores and prepares a session, starting
    /// from `resume` (a checkpoint directory) when given.
    public convenience init(configuration: TrainingConfiguration, resume: URL? = nil) throws {
        try configuration.validate()
        let trainRegion = try TrainingConfiguration.region(configuration.trainRegion, key: "train_region")
        var validation: (TrainingVolume, Box)?
        if let settings = configuration.validation {
            let data = try TrainingVolume.load(raw: settings.raw ?? configuration.raw, label: settings.label ?? configuration.label,
                                               region: try TrainingConfiguration.region(settings.region, key: "validation.region"))
            validation = (data, data.raw.box)
        }
        let training = try TrainingVolume.load(raw: configuration.raw, label: configuration.label, region: trainRegion)
        if let (data, region) = validation, settingsShareData(configuration), training.raw.box.intersection(region) != nil {
            throw NNError.invalidConfiguration("train_region \(training.raw.box) overlaps validation.region \(data.raw.box) of the same data; "
                + "hold the validation region back (e.g. train_region 0:16,... and validation.region 16:20,...)")
        }
        try self.init(configuration: configuration, training: training, validation: validation, resume: resume)
    }

    /// Prepares a session on data already in memory.
    public init(configuration: TrainingConfiguration, training: TrainingVolume, validation: (data: TrainingVolume, region: Box)?,
                resume: URL? = nil) throws {
        try configuration.validate()
        let threads = configuration.threads
        var metadata: [String: String] = [:]
        if let resume {
            trainer = try UNetTrainer(checkpoint: resume, threads: threads)
            guard trainer.network.configuration == configuration.network else {
                throw NNError.invalidConfiguration("checkpoint \(resume.path) holds another architecture than the configuration's 'network'")
            }
            metadata = try Self.trainingState(resume).metadata
            bestScore = Double(metadata["best_average_precision"] ?? "") ?? -1
        } else {
            trainer = UNetTrainer(network: try UNet(configuration: configuration.network, threads: threads),
                                  optimizer: configuration.optimizer, loss: configuration.loss)
            bestScore = -1
        }
        let network = trainer.network
        pruner = configuration.pruning.map { Pruner(configuration: $0, network: network) }
        pruner?.restore(onRates: metadata["pruning_on_rates"], reachedTarget: metadata["pruning_reached_target"] == "true")
        self.configuration = configuration
        let patch = try configuration.patch()
        sampler = try PatchSampler(data: training, shape: patch, foregroundFraction: configuration.foregroundFraction)
        self.validation = validation
        augmenter = Augmenter(configuration: configuration.augmentation)
        outputShape = try configuration.network.outputSize(for: patch)
    }

    /// Steps taken so far (restored from a checkpoint when resuming).
    public var step: Int { trainer.optimizer.step }

    /// The images and targets of the batch of `step` (deterministic in seed and step).
    public func batch(step: Int) throws -> (input: Tensor, target: Tensor) {
        var generator = SeededGenerator(seed: configuration.seed ^ (UInt64(step) &* 0xD1B5_4A32_D192_ED03))
        var inputs: [Volume<Float>] = [], targets: [Volume<Float>] = []
        let patch = sampler.shape
        let crop = Box(offset: Coordinate.floorDivide(patch - outputShape, Coordinate(repeating: 2)), shape: outputShape)
        for _ in 0..<configuration.batchSize {
            var (raw, label) = sampler.next(using: &generator)
            augmenter.apply(raw: &raw, label: &label, using: &generator)
            raw.box = Box(shape: patch)
            label.box = Box(shape: patch)
            inputs.append(raw)
            targets.append(outputShape == patch ? label : label.cropped(to: crop))
        }
        return (try Tensor(batch: inputs), try Tensor(batch: targets))
    }

    /// Trains until `configuration.steps` (or `until`) steps are done, calling `progress` after each.
    ///
    /// - Returns: the records of the steps run in this call (also appended to the log file).
    @discardableResult
    public func run(until last: Int? = nil, progress: (TrainingRecord) -> Void = { _ in }) throws -> [TrainingRecord] {
        let output = URL(fileURLWithPath: configuration.output)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw NNError.invalidConfiguration("output '\(output.path)' is a file; training writes a directory there (log.jsonl, last/, best/): choose another path")
        }
        do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw NNError.checkpoint(path: output.path, message: "cannot create the output directory: \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        let logURL = output.appendingPathComponent(Self.logFile)
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logURL.path) else {
            throw NNError.checkpoint(path: logURL.path, message: "cannot open the loss log for writing")
        }
        defer { try? log.close() }
        log.seekToEndOfFile()
        let encoder = JSONFiles.encoder(pretty: false)
        let start = Date()
        let end = last ?? configuration.steps
        var records: [TrainingRecord] = []
        while step < end {
            let (input, target) = try batch(step: step)
            trainer.optimizer.configuration.learningRate = configuration.optimizer.learningRate(atStep: step, of: configuration.steps)
            let value = try trainer.step(input: input, target: target)
            guard value.total.isFinite else {
                func shown(_ x: Float) -> String { x.isNaN ? "NaN" : "\(x)" }
                throw NNError.training("the loss became \(shown(value.total)) at step \(step) (BCE \(shown(value.bce)), Dice \(shown(value.dice))): training diverged; "
                    + "lower optimizer.learning_rate (now \(trainer.optimizer.configuration.learningRate)) or set optimizer.gradient_clip_norm. "
                    + "Checkpoints up to the last finite step are kept")
            }
            var record = TrainingRecord(step: step, loss: value.total, bce: value.bce, dice: value.dice, validation: nil, seconds: 0)
            record.pruning = try pruner?.afterStep(step)
            if let validation, let every = configuration.validation?.every, step % every == 0 || step == end {
                let metrics = try trainer.withAveragedWeights {
                    try trainer.network.validate(on: validation.data, region: validation.region,
                                                 blockOutput: try configuration.blockShape(), loss: configuration.loss)
                }
                record.validation = metrics
                if metrics.averagePrecision > bestScore, pruner?.reachedTarget ?? true {
                    bestScore = metrics.averagePrecision
                    try save(to: output.appendingPathComponent(Self.bestDirectory), metrics: metrics)
                }
            }
            if step % configuration.checkpointEvery == 0 || step == end {
                try save(to: output.appendingPathComponent(Self.lastDirectory), metrics: record.validation)
            }
            record.seconds = Date().timeIntervalSince(start)
            log.write(try encoder.encode(record) + Data("\n".utf8))
            records.append(record)
            progress(record)
        }
        return records
    }

    private func save(to directory: URL, metrics: ValidationMetrics?) throws {
        var metadata = ["best_average_precision": String(bestScore)]
        if let pruner {
            metadata["pruning_on_rates"] = pruner.savedOnRates
            metadata["pruning_reached_target"] = String(pruner.reachedTarget)
        }
        if let metrics {
            metadata["average_precision"] = String(metrics.averagePrecision)
            metadata["best_f1"] = String(metrics.bestF1)
            metadata["best_threshold"] = String(metrics.bestThreshold)
        }
        try trainer.save(to: directory, metadata: metadata)
    }

    private static func trainingState(_ directory: URL) throws -> TrainingState {
        try CheckpointFile.readJSON(TrainingState.self, from: directory.appendingPathComponent(CheckpointFile.trainingState))
    }
}

/// Whether validation reads the training data (so its region must be held back).
private func settingsShareData(_ configuration: TrainingConfiguration) -> Bool {
    guard let validation = configuration.validation else { return false }
    return (validation.raw ?? configuration.raw) == configuration.raw
}
