import EMNN
import EMVolume
import Foundation

/// `kind: predict`: foreground probabilities of a U-Net checkpoint, block by block.
public struct PredictStage: StageKind {
    /// How block predictions are put together.
    public enum Stitching: String, CaseIterable, Sendable {
        /// Each block predicts exactly its own voxels from the block grown by the network's halo.
        case crop
        /// Overlapping tiles blended with Gaussian weights (peaked at each tile's centre).
        case gaussian
        /// Overlapping tiles blended with weights ramping linearly over the overlap.
        case linear
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "predict", summary: "Predicts foreground probabilities with a U-Net checkpoint (config.json + model.safetensors).",
                    details: "uint8 input is divided by 255 and uint16 by 65535; float32 input (e.g. from a normalize stage) is used as is. Each prediction reads its output grown by the network's halo; a network with same padding stops at the volume's faces and pads its feature maps there itself, as on its training patches (reading up to one pooling cell past the far faces when the volume is not a multiple of it), while one with valid padding reads voxels outside the volume as 0. crop stitching equals one pass of the network over the whole volume; gaussian and linear stitching blend fixed tiles (the same tiles whatever the block shape), each block predicting the tiles that overlap it. The model's bytes are part of the stage's fingerprint: a new model redoes every block.",
                    parameters: [
                        .required("input", .volume, "The image: a stage name or a store address (uint8, uint16 or float32)."),
                        .required("model", .checkpoint, "A checkpoint directory holding config.json and model.safetensors, or the name of a train stage of this pipeline (the network it trains)."),
                        .optional("stitching", .choice(Stitching.allCases.map(\.rawValue)), default: .text(Stitching.crop.rawValue),
                                  "crop (exact centre crop per block), gaussian or linear (blend overlapping tiles)."),
                        .optional("tile", .shape, default: nil, "Output shape z,y,x of a blending tile (rounded up to a size the network accepts; default: the block shape)."),
                        .optional("overlap", .coordinate(minimum: 0), default: nil, "Overlap z,y,x of neighbouring blending tiles (default: a quarter of the tile)."),
                        .optional("flips", .choice(FlipAugmentation.allCases.map(\.rawValue)), default: .text(FlipAugmentation.none.rawValue),
                                  "Test-time augmentation: average the predictions of the input mirrored along y and x (xy, 4 passes) or z, y and x (xyz, 8 passes)."),
                        .optional("channel", .integer(minimum: 0, maximum: nil), default: .integer(0), "The output channel of the network to keep."),
                        .optional("data_type", .dataType(allowed: [.float32, .uint8]), default: .dataType(.float32),
                                  "float32 probabilities, or uint8 (probability x 255, rounded)."),
                        .optional("threads", .integer(minimum: 1, maximum: nil), default: nil, "Threads of each network (default: the library's)."),
                    ])
    }

    public func describe(_ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs["input"] else { return nil }
        guard [.uint8, .uint16, .float32].contains(input.dataType) else {
            check.error("the network needs uint8, uint16 or float32 input, the input is \(input.dataType) (add a normalize stage)", parameter: "input")
            return nil
        }
        let configuration: UNetConfiguration
        do {
            if let trainer = check.references["model"] {
                guard trainer.kind == TrainStage.kind else {
                    check.error("stage '\(trainer.name)' is a \(trainer.kind) stage; model names a train stage or a checkpoint directory", parameter: "model")
                    return nil
                }
                configuration = try TrainStage.configuration(trainer).network
            } else {
                configuration = try CheckpointFile.configuration(of: URL(fileURLWithPath: check.stage.text("model")!))
            }
        } catch {
            check.error("cannot use the model: \(error)", parameter: "model")
            return nil
        }
        guard configuration.inputChannels == 1 else {
            check.error("the model takes \(configuration.inputChannels) input channels; the predict stage feeds one", parameter: "model")
            return nil
        }
        let channel = check.stage.integer("channel") ?? 0
        guard channel < configuration.outputChannels else {
            check.error("the model has \(configuration.outputChannels) output channel\(configuration.outputChannels == 1 ? "" : "s") (0-based)", parameter: "channel")
            return nil
        }
        do {
            _ = try Self.layout(check.stage, configuration: configuration, volume: input.shape, blockShape: check.execution.blockShape)
        } catch {
            check.error("\(error)", parameter: check.stage.values["overlap"] != nil ? "overlap" : "tile")
            return nil
        }
        return input.with(dataType: check.stage.dataType("data_type") ?? .float32)
    }

    public func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        let path = try Self.checkpointDirectory(stage, in: context.pipeline)
        let directory = URL(fileURLWithPath: path)
        let configuration = try CheckpointFile.configuration(of: URL(fileURLWithPath: path))
        let layout = try Self.layout(stage, configuration: configuration, volume: context.inputs["input"]!.shape,
                                     blockShape: context.execution.blockShape)
        let weights = layout.tile.map { tile in
            TileWeights(profile: BlendProfile(rawValue: stage.text("stitching")!)!, tile: tile, overlap: tile - layout.stride!)
        }
        return Predictor(layout: layout, weights: weights, flips: FlipAugmentation(rawValue: stage.text("flips") ?? "none")!,
                         channel: stage.integer("channel") ?? 0, outputType: stage.dataType("data_type") ?? .float32,
                         pool: NetworkPool(checkpoint: directory, threads: stage.integer("threads")),
                         modelHash: try CheckpointFile.contentHash(directory))
    }

    /// The checkpoint directory of the stage's `model`: the directory given, or the checkpoint
    /// of the train stage it names.
    static func checkpointDirectory(_ stage: PipelineStage, in pipeline: Pipeline) throws -> String {
        if let trainer = stage.references["model"].flatMap(pipeline.stage) {
            return TrainStage.checkpoint(try TrainStage.configuration(trainer))
        }
        return stage.text("model")!
    }

    /// The tile layout the stage's parameters ask for over a volume of shape `volume`.
    static func layout(_ stage: PipelineStage, configuration: UNetConfiguration, volume: Coordinate, blockShape: Coordinate) throws -> TileLayout {
        let bounds = Box(shape: volume)
        guard Stitching(rawValue: stage.text("stitching") ?? "crop") != .crop else {
            let layout = TileLayout(configuration: configuration, bounds: bounds)
            _ = try layout.readBox(forOutput: Box(shape: Coordinate.minimum(blockShape, volume)))
            return layout
        }
        let tile = stage.coordinate("tile") ?? blockShape
        let overlap = stage.coordinate("overlap") ?? Coordinate.floorDivide(tile, Coordinate(repeating: 4))
        let layout = try TileLayout(configuration: configuration, bounds: bounds, tile: tile, overlap: overlap)
        guard Coordinate.all(overlap, layout.tile!, <) else {
            throw PipelineError.execution("overlap \(overlap) must be smaller than the tile \(layout.tile!) on every axis")
        }
        return layout
    }
}
