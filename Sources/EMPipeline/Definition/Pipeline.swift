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

/// One validated stage: its kind with its typed parameters, the values they came from and
/// its inputs.
public struct PipelineStage: Sendable {
    /// The stage's name (a key under `stages:`; implicit readers are named `stage.parameter`).
    public var name: String
    /// The stage's kind with its decoded parameters.
    public var configured: any ConfiguredStage
    /// The validated values as provenance files and fingerprints record them (defaults
    /// included; optional parameters without default are absent). The kind reads its typed
    /// parameters, never these.
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

    /// Creates a stage of `configured`'s kind.
    public init(name: String, configured: any ConfiguredStage, values: [String: ParameterValue], locations: [String: SourceLocation],
                location: SourceLocation, inputs: [String: String], isImplicit: Bool, output: VolumeDescriptor? = nil) {
        self.name = name
        self.configured = configured
        self.values = values
        self.locations = locations
        self.location = location
        self.inputs = inputs
        self.isImplicit = isImplicit
        self.output = output
    }

    /// The stage's kind.
    public var kind: any StageKind { configured.stageKind }

    /// The stage's parameters when it is a stage of kind `Kind`, else nil.
    public func parameters<Kind: StageKind>(of kind: Kind.Type) -> Kind.Parameters? {
        (configured as? Configured<Kind>)?.parameters
    }

    /// The stages this one waits for: its inputs and its references.
    public var dependencies: [String: String] { inputs.merging(references) { input, _ in input } }

    /// Where parameter `name` is written (the stage itself when it took its default).
    public func location(of name: String) -> SourceLocation { locations[name] ?? location }

    /// The stores the stage writes (its `.outputStore` parameters).
    public var outputStores: [(parameter: String, address: StoreAddress)] {
        kind.schema.parameters.filter { $0.type == .outputStore }.compactMap { parameter in
            if case let .store(address)? = values[parameter.name] { return (parameter.name, address) } else { return nil }
        }
    }

    /// Every store, file or directory the stage writes (batch runs check that no two volumes
    /// write the same one).
    public var outputs: [String] { outputStores.map(\.address.description) + configured.writtenFiles }
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
    /// Notes on the definition that did not stop it (deprecated key spellings).
    public var warnings: [PipelineDiagnostic] = []

    /// The stage named `name`.
    public func stage(_ name: String) -> PipelineStage? { stages.first { $0.name == name } }

    /// The stages that take `name`'s output as an input.
    public func consumers(of name: String) -> [PipelineStage] { stages.filter { $0.inputs.values.contains(name) } }
}
