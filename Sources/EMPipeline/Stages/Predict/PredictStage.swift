import EMNN
import EMVolume
import Foundation

/// `kind: predict`: foreground probabilities of a U-Net checkpoint, block by block.
public struct PredictStage: StageKind {
    /// How block predictions are put together.
    public enum Stitching: String, ParameterChoice, Sendable {
        /// Each block predicts exactly its own voxels from the block grown by the network's halo.
        case crop
        /// Overlapping tiles blended with Gaussian weights (peaked at each tile's centre).
        case gaussian
        /// Overlapping tiles blended with weights ramping linearly over the overlap.
        case linear
    }

    static let input = Parameter<VolumeReference>.required("input", .volume, "The image: a stage name or a store address (uint8, uint16 or float32).")
    static let model = Parameter<CheckpointReference>.required("model", .checkpoint, "A checkpoint directory holding config.json and model.safetensors, or the name of a train stage of this pipeline (the network it trains).")
    static let stitching = Parameter.choice("stitching", default: Stitching.crop,
                                            "crop (exact centre crop per block), gaussian or linear (blend overlapping tiles).")
    static let tile = Parameter<Coordinate?>.optional("tile", .shape, "Output shape z,y,x of a blending tile (rounded up to a size the network accepts; default: the block shape).")
    static let overlap = Parameter<Coordinate?>.optional("overlap", .coordinate(minimum: 0), "Overlap z,y,x of neighbouring blending tiles (default: a quarter of the tile).")
    static let flips = Parameter.choice("flips", default: FlipAugmentation.none,
                                        "Test-time augmentation: average the predictions of the input mirrored along y and x (xy, 4 passes) or z, y and x (xyz, 8 passes).")
    static let channel = Parameter<Int>.optional("channel", .integer(minimum: 0, maximum: nil), default: 0, "The output channel of the network to keep.")
    static let dataType = Parameter<DataType>.optional("data_type", .dataType(allowed: [.float32, .uint8]), default: .float32,
                                                       "float32 probabilities, or uint8 (probability x 255, rounded).")
    static let threads = Parameter<Int?>.optional("threads", .integer(minimum: 1, maximum: nil), "Threads of each network (default: the library's).")

    /// A predict stage's parameters.
    public struct Parameters: Sendable {
        /// The network.
        public var model: CheckpointReference
        /// How block predictions are put together.
        public var stitching: Stitching
        /// Blending tile and overlap (default: the block shape and a quarter of the tile).
        public var tile: Coordinate?, overlap: Coordinate?
        /// Test-time augmentation.
        public var flips: FlipAugmentation
        /// The output channel kept.
        public var channel: Int
        /// float32 or uint8 output.
        public var dataType: DataType
        /// Threads of each network (nil: the library's).
        public var threads: Int?
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "predict", summary: "Predicts foreground probabilities with a U-Net checkpoint (config.json + model.safetensors).",
                    details: "uint8 input is divided by 255 and uint16 by 65535; float32 input (e.g. from a normalize stage) is used as is. Each prediction reads its output grown by the network's halo; a network with same padding stops at the volume's faces and pads its feature maps there itself, as on its training patches (reading up to one pooling cell past the far faces when the volume is not a multiple of it), while one with valid padding reads voxels outside the volume as 0. crop stitching equals one pass of the network over the whole volume; gaussian and linear stitching blend fixed tiles (the same tiles whatever the block shape), each block predicting the tiles that overlap it. The model's bytes are part of the stage's fingerprint: a new model redoes every block.",
                    parameters: [Self.input.schema, Self.model.schema, Self.stitching.schema, Self.tile.schema, Self.overlap.schema,
                                 Self.flips.schema, Self.channel.schema, Self.dataType.schema, Self.threads.schema])
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(model: values[Self.model], stitching: values[Self.stitching], tile: values[Self.tile], overlap: values[Self.overlap],
                   flips: values[Self.flips], channel: values[Self.channel], dataType: values[Self.dataType], threads: values[Self.threads])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name] else { return nil }
        guard [.uint8, .uint16, .float32].contains(input.dataType) else {
            check.error("the network needs uint8, uint16 or float32 input, the input is \(input.dataType) (add a normalize stage)", parameter: Self.input.name)
            return nil
        }
        let configuration: UNetConfiguration
        do {
            switch parameters.model {
            case .stage:
                guard let trainer = check.references[Self.model.name] else { return nil }
                guard let training = trainer.parameters(of: TrainStage.self) else {
                    check.error("stage '\(trainer.name)' is a \(trainer.kind.name) stage; model names a train stage or a checkpoint directory",
                                parameter: Self.model.name)
                    return nil
                }
                configuration = training.configuration.network
            case let .directory(path):
                configuration = try CheckpointFile.configuration(of: URL(fileURLWithPath: path))
            }
        } catch {
            check.error("cannot use the model: \(error)", parameter: Self.model.name)
            return nil
        }
        guard configuration.inputChannels == 1 else {
            check.error("the model takes \(configuration.inputChannels) input channels; the predict stage feeds one", parameter: Self.model.name)
            return nil
        }
        guard parameters.channel < configuration.outputChannels else {
            check.error("the model has \(configuration.outputChannels) output channel\(configuration.outputChannels == 1 ? "" : "s") (0-based)",
                        parameter: Self.channel.name)
            return nil
        }
        do {
            _ = try Self.layout(parameters, configuration: configuration, volume: input.shape, blockShape: check.execution.blockShape)
        } catch {
            check.error("\(error)", parameter: parameters.overlap != nil ? Self.overlap.name : Self.tile.name)
            return nil
        }
        return input.with(dataType: parameters.dataType)
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        let directory = URL(fileURLWithPath: try Self.checkpointDirectory(parameters.model, in: context.pipeline))
        let configuration = try CheckpointFile.configuration(of: directory)
        let layout = try Self.layout(parameters, configuration: configuration, volume: context.inputs[Self.input.name]!.shape,
                                     blockShape: context.execution.blockShape)
        let weights = layout.tile.map { tile in
            TileWeights(profile: BlendProfile(rawValue: parameters.stitching.rawValue)!, tile: tile, overlap: tile - layout.stride!)
        }
        return Predictor(layout: layout, weights: weights, flips: parameters.flips, channel: parameters.channel, outputType: parameters.dataType,
                         pool: NetworkPool(checkpoint: directory, threads: parameters.threads),
                         modelHash: try CheckpointFile.contentHash(directory))
    }

    /// The checkpoint directory of `model`: the directory given, or the checkpoint of the
    /// train stage it names.
    static func checkpointDirectory(_ model: CheckpointReference, in pipeline: Pipeline) throws -> String {
        switch model {
        case let .directory(path):
            return path
        case let .stage(name):
            guard let training = pipeline.stage(name)?.parameters(of: TrainStage.self) else {
                preconditionFailure("model '\(name)' was validated as a train stage")
            }
            return TrainStage.checkpoint(training.configuration)
        }
    }

    /// The tile layout `parameters` ask for over a volume of shape `volume`.
    static func layout(_ parameters: Parameters, configuration: UNetConfiguration, volume: Coordinate, blockShape: Coordinate) throws -> TileLayout {
        let bounds = Box(shape: volume)
        guard parameters.stitching != .crop else {
            let layout = TileLayout(configuration: configuration, bounds: bounds)
            _ = try layout.readBox(forOutput: Box(shape: Coordinate.minimum(blockShape, volume)))
            return layout
        }
        let tile = parameters.tile ?? blockShape
        let overlap = parameters.overlap ?? Coordinate.floorDivide(tile, Coordinate(repeating: 4))
        let layout = try TileLayout(configuration: configuration, bounds: bounds, tile: tile, overlap: overlap)
        guard Coordinate.all(overlap, layout.tile!, <) else {
            throw PipelineError.execution("overlap \(overlap) must be smaller than the tile \(layout.tile!) on every axis")
        }
        return layout
    }
}
