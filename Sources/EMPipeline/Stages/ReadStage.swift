import EMStorage
import EMStores
import EMVolume

/// `kind: read`: a volume from a store, optionally a region of it.
public struct ReadStage: StageKind {
    /// The store to read.
    static let input = Parameter<StoreAddress>.required("input", .existingStore, "The volume to read, e.g. data.h5:volumes/raw or out.zarr/pred.")
    static let roi = Parameter<Box?>.optional("roi", .region, "Only this region z0:z1,y0:y1,x0:x1 (voxels); the output starts at its corner.")
    static let padValue = Parameter<Double>.optional("pad_value", .anyNumber, default: 0, "Value of voxels read outside the stored volume (halo at the edges).")

    /// A read stage's parameters.
    public struct Parameters: Sendable {
        /// The store.
        public var input: StoreAddress
        /// The region read (nil: the whole volume).
        public var roi: Box?
        /// The value of voxels outside the stored volume.
        public var padValue: Double
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "read", summary: "Reads a volume from an HDF5, Zarr or TIFF store.",
                    details: "Stages whose input is a store address read it through an implicit read stage with default parameters. Halo voxels outside the stored volume take pad_value; with a roi, halo voxels around the roi are read from the volume.",
                    parameters: [Self.input.schema, Self.roi.schema, Self.padValue.schema])
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(input: values[Self.input], roi: values[Self.roi], padValue: values[Self.padValue])
    }

    /// The implicit reader of `address` (default parameters), as the values validation gives it.
    static func implicitValues(_ address: StoreAddress) -> [String: ParameterValue] {
        var values = [Self.input.name: ParameterValue.store(address)]
        for parameter in ReadStage().schema.parameters { values[parameter.name] = values[parameter.name] ?? parameter.defaultValue }
        return values
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        let address = parameters.input
        let metadata: VolumeMetadata
        do {
            metadata = try Stores.open(address).metadata
        } catch {
            check.error("missing input: cannot open '\(address)': \(error)", parameter: Self.input.name)
            return nil
        }
        if let reason = Stores.incompleteness(of: address) {
            check.error("\(StorageError.incomplete(address: address.description, reason: reason))", parameter: Self.input.name)
            return nil
        }
        var descriptor = VolumeDescriptor(metadata: metadata)
        if let roi = parameters.roi {
            guard metadata.bounds.contains(roi) else {
                check.error("roi \(roi) is not inside the volume '\(address)' of shape \(metadata.shape)", parameter: Self.roi.name)
                return nil
            }
            descriptor.shape = roi.shape
            descriptor.origin = metadata.voxelSize.world(roi.offset, origin: metadata.origin)
        }
        return descriptor
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Reader(store: try Stores.open(parameters.input), corner: parameters.roi?.offset ?? .zero, pad: parameters.padValue)
    }
}

/// Reads blocks from a store; the pipeline's voxel (0,0,0) is the store's voxel `corner`.
final class Reader: BlockTransform {
    private let store: VolumeStore
    private let corner: Coordinate
    private let pad: Double

    init(store: VolumeStore, corner: Coordinate, pad: Double) {
        self.store = store
        self.corner = corner
        self.pad = pad
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        try AnyVolume.read(box.translated(by: corner), from: store, fill: .real(pad)).moved(to: box)
    }
}
