import EMStorage
import EMVolume

/// What a stage produces: the shape and type of its output volume and where it sits in the world.
public struct VolumeDescriptor: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Extent in voxels (z, y, x).
    public var shape: Coordinate
    /// Element type.
    public var dataType: DataType
    /// Nanometres per voxel.
    public var voxelSize: VoxelSize
    /// World position of voxel (0, 0, 0).
    public var origin: WorldPoint

    /// Creates a descriptor.
    public init(shape: Coordinate, dataType: DataType, voxelSize: VoxelSize = .unit, origin: WorldPoint = .zero) {
        self.shape = shape
        self.dataType = dataType
        self.voxelSize = voxelSize
        self.origin = origin
    }

    /// What a store holds, as a stage sees it.
    public init(metadata: VolumeMetadata) {
        self.init(shape: metadata.shape, dataType: metadata.dataType, voxelSize: metadata.voxelSize, origin: metadata.origin)
    }

    /// The same volume with another element type.
    public func with(dataType: DataType) -> VolumeDescriptor {
        var copy = self
        copy.dataType = dataType
        return copy
    }

    /// `shape z,y,x of type`.
    public var description: String { "\(shape) \(dataType)" }
}

/// One validated stage: its kind, every parameter (defaults filled in) and its inputs.
public struct PipelineStage: Sendable {
    /// The stage's name (a key under `stages:`; implicit readers are named `stage.parameter`).
    public var name: String
    /// The stage kind (`StageSchema.kind`).
    public var kind: String
    /// Parameter values, defaults included; optional parameters without default are absent.
    public var values: [String: ParameterValue]
    /// Where each parameter was written (defaults point at the stage).
    public var locations: [String: SourceLocation]
    /// Where the stage is defined.
    public var location: SourceLocation
    /// The upstream stage of each input parameter.
    public var inputs: [String: String]
    /// The stage named by each reference parameter (`ParameterType.isReference`): stages
    /// whose finished result this stage uses.
    public var references: [String: String] = [:]
    /// True for a `read` stage made for an input given as a store address.
    public var isImplicit: Bool
    /// The stage's output, known once validation has described it.
    public var output: VolumeDescriptor?

    /// The stages this one waits for: its inputs and its references.
    public var dependencies: [String: String] { inputs.merging(references) { input, _ in input } }

    /// Where parameter `name` is written (the stage itself when it took its default).
    public func location(of name: String) -> SourceLocation { locations[name] ?? location }

    /// An integer parameter.
    public func integer(_ name: String) -> Int? { if case let .integer(v)? = values[name] { return v } else { return nil } }
    /// A number parameter (integers are accepted where numbers are).
    public func number(_ name: String) -> Double? {
        switch values[name] {
        case let .number(v)?: return v
        case let .integer(v)?: return Double(v)
        default: return nil
        }
    }
    /// A true/false parameter.
    public func boolean(_ name: String) -> Bool? { if case let .boolean(v)? = values[name] { return v } else { return nil } }
    /// A text or choice parameter.
    public func text(_ name: String) -> String? { if case let .text(v)? = values[name] { return v } else { return nil } }
    /// A z,y,x parameter.
    public func coordinate(_ name: String) -> Coordinate? { if case let .coordinate(v)? = values[name] { return v } else { return nil } }
    /// A region parameter.
    public func region(_ name: String) -> Box? { if case let .region(v)? = values[name] { return v } else { return nil } }
    /// A data type parameter.
    public func dataType(_ name: String) -> DataType? { if case let .dataType(v)? = values[name] { return v } else { return nil } }
    /// A store address parameter.
    public func store(_ name: String) -> StoreAddress? { if case let .store(v)? = values[name] { return v } else { return nil } }
}

/// A validated pipeline: variables resolved, stages typed and ordered so that every stage
/// comes after its inputs.
public struct Pipeline: Sendable {
    /// The pipeline's `name:` (the file name without extension when absent).
    public var name: String
    /// The pipeline's `description:`.
    public var summary: String
    /// The file it was read from.
    public var file: String
    /// Variables with their final values.
    public var variables: [ResolvedVariable]
    /// The `execution:` settings.
    public var execution: ExecutionSettings
    /// The stages, inputs before the stages that use them.
    public var stages: [PipelineStage]

    /// The stage named `name`.
    public func stage(_ name: String) -> PipelineStage? { stages.first { $0.name == name } }

    /// The stages that take `name`'s output as an input.
    public func consumers(of name: String) -> [PipelineStage] { stages.filter { $0.inputs.values.contains(name) } }
}
