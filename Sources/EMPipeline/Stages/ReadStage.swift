import EMStorage
import EMStores
import EMVolume

/// `kind: read`: a volume from a store, optionally a region of it.
public struct ReadStage: StageKind {
    /// The kind's name.
    public static let kind = "read"
    /// The parameter naming the store.
    public static let input = "input"

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: Self.kind, summary: "Reads a volume from an HDF5, Zarr or TIFF store.",
                    details: "Stages whose input is a store address read it through an implicit read stage with default parameters. Halo voxels outside the stored volume take pad_value; with a roi, halo voxels around the roi are read from the volume.",
                    parameters: [
                        .required(Self.input, .existingStore, "The volume to read, e.g. data.h5:volumes/raw or out.zarr/pred."),
                        .optional("roi", .region, default: nil, "Only this region z0:z1,y0:y1,x0:x1 (voxels); the output starts at its corner."),
                        .optional("pad_value", .anyNumber, default: .number(0), "Value of voxels read outside the stored volume (halo at the edges)."),
                    ])
    }

    public func describe(_ check: inout StageCheck) -> VolumeDescriptor? {
        guard let address = check.stage.store(Self.input) else { return nil }
        let metadata: VolumeMetadata
        do {
            metadata = try Stores.open(address).metadata
        } catch {
            check.error("missing input: cannot open '\(address)': \(error)", parameter: Self.input)
            return nil
        }
        if let reason = Stores.incompleteness(of: address) {
            check.error("\(StorageError.incomplete(address: address.description, reason: reason))", parameter: Self.input)
            return nil
        }
        var descriptor = VolumeDescriptor(metadata: metadata)
        if let roi = check.stage.region("roi") {
            guard metadata.bounds.contains(roi) else {
                check.error("roi \(roi) is not inside the volume '\(address)' of shape \(metadata.shape)", parameter: "roi")
                return nil
            }
            descriptor.shape = roi.shape
            descriptor.origin = metadata.voxelSize.world(roi.offset, origin: metadata.origin)
        }
        return descriptor
    }

    public func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        let store = try Stores.open(stage.store(Self.input)!)
        return Reader(store: store, corner: stage.region("roi")?.offset ?? .zero, pad: stage.number("pad_value") ?? 0)
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
