import EMVolume
import Foundation

/// Everything a training run needs: data, patches, network, optimiser, loss, augmentation,
/// validation and where results go. Decoded from JSON or YAML (keys as written here); omitted
/// optional keys take the documented defaults.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// Image store address, e.g. `train.h5:volumes/raw`.
    public var raw: String
    /// Foreground mask store address, e.g. `train.h5:volumes/labels/synapse`.
    public var label: String
    /// Region `z0:z1,y0:y1,x0:x1` of the data to train on (default: the whole volume). When
    /// validation reads the same image, its region must not overlap this one.
    public var trainRegion: String?
    /// Validation settings (`nil`: no validation).
    public var validation: ValidationSettings?
    /// Input patch shape `[z, y, x]`; must be a size the network accepts.
    public var patchShape: [Int]
    /// Patches per step.
    public var batchSize: Int
    /// Optimiser steps in total.
    public var steps: Int
    /// Fraction of patches centred on a foreground voxel.
    public var foregroundFraction: Double
    /// Seed of patch sampling and augmentation (the network's own seed is `network.seed`).
    public var seed: UInt64
    /// The architecture.
    public var network: UNetConfiguration
    /// Optimiser settings.
    public var optimizer: AdamConfiguration
    /// Loss weights.
    public var loss: LossConfiguration
    /// Augmentation.
    public var augmentation: AugmentationConfiguration
    /// Directory for checkpoints (`last/`, `best/`) and the loss log (`log.jsonl`).
    public var output: String
    /// Save `last/` every this many steps (and always at the end).
    public var checkpointEvery: Int
    /// Compute threads (default: all cores).
    public var threads: Int?
    /// Pruning during training (`nil`: none, and no pruning diagnostics).
    public var pruning: PruningConfiguration?

    /// Where and how often to validate.
    public struct ValidationSettings: Codable, Equatable, Sendable {
        /// Image address (default: the training image, with `region` held back from training).
        public var raw: String?
        /// Mask address (default: the training mask).
        public var label: String?
        /// Region `z0:z1,y0:y1,x0:x1` to validate on (default: the whole validation volume).
        public var region: String?
        /// Validate every this many steps (and after the last step).
        public var every: Int
        /// Output voxels per prediction block `[z, y, x]` (default: the patch shape).
        public var blockShape: [Int]?

        /// Creates validation settings.
        public init(raw: String? = nil, label: String? = nil, region: String? = nil, every: Int, blockShape: [Int]? = nil) {
            self.raw = raw
            self.label = label
            self.region = region
            self.every = every
            self.blockShape = blockShape
        }
    }

    /// Creates a configuration.
    public init(raw: String, label: String, trainRegion: String? = nil, validation: ValidationSettings? = nil,
                patchShape: [Int], batchSize: Int = 1, steps: Int, foregroundFraction: Double = 0.5, seed: UInt64 = 0,
                network: UNetConfiguration, optimizer: AdamConfiguration = AdamConfiguration(),
                loss: LossConfiguration = LossConfiguration(), augmentation: AugmentationConfiguration = AugmentationConfiguration(),
                output: String, checkpointEvery: Int = 100, threads: Int? = nil, pruning: PruningConfiguration? = nil) {
        self.raw = raw
        self.label = label
        self.trainRegion = trainRegion
        self.validation = validation
        self.patchShape = patchShape
        self.batchSize = batchSize
        self.steps = steps
        self.foregroundFraction = foregroundFraction
        self.seed = seed
        self.network = network
        self.optimizer = optimizer
        self.loss = loss
        self.augmentation = augmentation
        self.output = output
        self.checkpointEvery = checkpointEvery
        self.threads = threads
        self.pruning = pruning
    }

    /// The keys a configuration may contain at its top level.
    public static let keys: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case raw, label, trainRegion, validation, patchShape, batchSize, steps, foregroundFraction, seed
        case network, optimizer, loss, augmentation, output, checkpointEvery, threads, pruning
    }

    /// Decodes a configuration; optional keys take their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfiguration(raw: "", label: "", patchShape: [], steps: 0, network: UNetConfiguration(), output: "")
        self.init(raw: try c.decode(String.self, forKey: .raw),
                  label: try c.decode(String.self, forKey: .label),
                  trainRegion: try c.decodeIfPresent(String.self, forKey: .trainRegion),
                  validation: try c.decodeIfPresent(ValidationSettings.self, forKey: .validation),
                  patchShape: try c.decode([Int].self, forKey: .patchShape),
                  batchSize: try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize,
                  steps: try c.decode(Int.self, forKey: .steps),
                  foregroundFraction: try c.decodeIfPresent(Double.self, forKey: .foregroundFraction) ?? d.foregroundFraction,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed,
                  network: try c.decode(UNetConfiguration.self, forKey: .network),
                  optimizer: try c.decodeIfPresent(AdamConfiguration.self, forKey: .optimizer) ?? d.optimizer,
                  loss: try c.decodeIfPresent(LossConfiguration.self, forKey: .loss) ?? d.loss,
                  augmentation: try c.decodeIfPresent(AugmentationConfiguration.self, forKey: .augmentation) ?? d.augmentation,
                  output: try c.decode(String.self, forKey: .output),
                  checkpointEvery: try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery,
                  threads: try c.decodeIfPresent(Int.self, forKey: .threads),
                  pruning: try c.decodeIfPresent(PruningConfiguration.self, forKey: .pruning))
    }

    /// Throws `NNError.invalidConfiguration` naming the setting and what would work.
    public func validate() throws {
        func fail(_ message: String) -> NNError { .invalidConfiguration(message) }
        guard !raw.isEmpty else { throw fail("'raw' (the image address, e.g. train.h5:volumes/raw) is empty") }
        guard !label.isEmpty else { throw fail("'label' (the mask address, e.g. train.h5:volumes/labels/synapse) is empty") }
        guard !output.isEmpty else { throw fail("'output' (the directory for checkpoints and the loss log) is empty") }
        _ = try patch()
        guard batchSize >= 1 else { throw fail("batch_size is \(batchSize); use 1 or more") }
        guard steps >= 0 else { throw fail("steps is \(steps); use 0 or more") }
        guard checkpointEvery >= 1 else { throw fail("checkpoint_every is \(checkpointEvery); use 1 or more") }
        guard (0...1).contains(foregroundFraction) else { throw fail("foreground_fraction \(foregroundFraction) must lie in [0, 1]") }
        try optimizer.validate()
        if let decay = optimizer.averageDecay, !(0..<1).contains(decay) {
            throw fail("optimizer.average_decay \(decay) must lie in [0, 1) (e.g. 0.99 averages about the last 100 steps)")
        }
        if let validation {
            guard validation.every >= 1 else { throw fail("validation.every is \(validation.every); use 1 or more") }
            _ = try blockShape()
            _ = try Self.region(validation.region, key: "validation.region")
        }
        _ = try Self.region(trainRegion, key: "train_region")
        try network.validate()
        try pruning?.validate(steps: steps)
        do {
            _ = try network.outputSize(for: try patch())
        } catch let error as NNError {
            throw fail("patch_shape \(patchShape) does not suit the network: \(error)")
        }
    }

    /// The patch shape as a coordinate.
    public func patch() throws -> Coordinate {
        guard let shape = Coordinate(patchShape), Coordinate.all(shape, .zero, >) else {
            throw NNError.invalidConfiguration("patch_shape \(patchShape) must be three positive sizes [z, y, x], e.g. [16, 128, 128]")
        }
        return shape
    }

    /// The validation block's output shape (default: the patch shape).
    public func blockShape() throws -> Coordinate {
        guard let values = validation?.blockShape else { return try patch() }
        guard let shape = Coordinate(values), Coordinate.all(shape, .zero, >) else {
            throw NNError.invalidConfiguration("validation.block_shape \(values) must be three positive sizes [z, y, x]")
        }
        return shape
    }

    /// Parses an optional region setting.
    static func region(_ text: String?, key: String) throws -> Box? {
        guard let text else { return nil }
        do {
            return try Box.parse(text)
        } catch {
            throw NNError.invalidConfiguration("\(key): \(error)")
        }
    }
}
