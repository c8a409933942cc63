import EMStorage
import EMStores
import EMVolume
import EMZarr
import Foundation

/// `kind: write`: stores a volume in an HDF5, Zarr or TIFF store, chunk by chunk.
public struct WriteStage: StageKind {
    /// The kind's name.
    public static let kind = "write"

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: Self.kind, summary: "Writes a volume to an HDF5, Zarr or TIFF store.",
                    details: "Done markers and a provenance file are kept beside the output; re-running the pipeline skips blocks already written by the same configuration. An existing output not written by emflow is replaced only with overwrite: true.",
                    parameters: [
                        .required("input", .volume, "The volume to store: a stage name or a store address."),
                        .required("output", .outputStore, "Where to write, e.g. out.zarr/labels, out.h5:volumes/labels, 'slices/*.tif'."),
                        .optional("data_type", .anyDataType, default: nil, "Element type of the output (default: the input's); values are rounded and clamped."),
                        .optional("chunks", .shape, default: nil, "Chunk shape z,y,x of the output (default: the block shape, cut to the volume). The block shape must be a multiple of it. TIFF is always written in whole sections."),
                        .optional("codec", .choice(Codec.commandLineNames), default: nil,
                                  "Chunk compression (default: zstd for Zarr, gzip for HDF5 and TIFF). HDF5 writes raw or gzip; TIFF raw, gzip, zlib or zstd."),
                        .optional("level", .integer(minimum: 1, maximum: 22), default: nil, "Compression level (codec default when absent)."),
                        .optional("zarr_version", .integer(minimum: 2, maximum: 3), default: .integer(2), "Zarr format of a Zarr output."),
                        .optional("overwrite", .boolean, default: .boolean(false), "Replace an existing output that emflow did not write."),
                    ],
                    isSink: true)
    }

    public func describe(_ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs["input"], let address = check.stage.store("output") else { return nil }
        let stage = check.stage
        let blockShape = check.execution.blockShape
        var valid = true
        let dataType = stage.dataType("data_type") ?? input.dataType
        if address.format == .tiff {
            if ![.uint8, .uint16, .float32].contains(dataType) {
                check.error("TIFF holds uint8, uint16 or float32 voxels, not \(dataType) (set data_type or write Zarr or HDF5)",
                            parameter: stage.values["data_type"] == nil ? "output" : "data_type")
                valid = false
            }
            if blockShape.y < input.shape.y || blockShape.x < input.shape.x {
                check.error("TIFF is written in whole sections: block_shape \(blockShape) must cover y and x of the volume \(input.shape)", parameter: "output")
                valid = false
            }
        }
        let chunks = Self.chunkShape(stage, address: address, blockShape: blockShape, shape: input.shape)
        for axis in 0..<3 where blockShape[axis] % chunks[axis] != 0 && blockShape[axis] < input.shape[axis] {
            check.error("block_shape \(blockShape) is not a multiple of chunks \(chunks): blocks would not be chunk-aligned",
                        parameter: stage.values["chunks"] == nil ? nil : "chunks")
            valid = false
            break
        }
        if check.execution.edgeFit == .valid && !Coordinate.all(blockShape, input.shape, <=) {
            check.error("block_shape \(blockShape) is larger than the volume \(input.shape) and edge_fit is valid: nothing would be written")
            valid = false
        }
        let codec = stage.text("codec") ?? Self.defaultCodec(for: address.format)
        let supported = Self.codecs(for: address.format)
        if !supported.contains(codec) {
            check.error("codec '\(codec)' cannot be written to \(address.format.rawValue.uppercased()) (supported: \(supported.joined(separator: ", ")))",
                        parameter: stage.values["codec"] == nil ? nil : "codec")
            valid = false
        }
        if let pid = OutputLock.holder(of: address) {
            check.error("\(OutputLock.inUse(address.description, pid: pid))", parameter: "output")
            valid = false
        } else if stage.boolean("overwrite") != true && Stores.exists(address) && !Self.writtenByEmflow(address) {
            check.error("'\(address)' already exists and was not written by emflow: set overwrite: true to replace it", parameter: "output")
            valid = false
        }
        guard valid else { return nil }
        return input.with(dataType: dataType)
    }

    /// The output's chunks: one section for TIFF, else `chunks` or the block shape cut to the volume.
    static func chunkShape(_ stage: PipelineStage, address: StoreAddress, blockShape: Coordinate, shape: Coordinate) -> Coordinate {
        if address.format == .tiff { return Coordinate(1, shape.y, shape.x) }
        return Coordinate.minimum(stage.coordinate("chunks") ?? blockShape, shape)
    }

    /// The codec an output of `format` gets when the stage names none.
    static func defaultCodec(for format: StoreAddress.Format) -> String {
        format == .zarr ? "zstd" : "gzip"
    }

    /// The codecs (`Codec.commandLineNames`) the stores of `format` write.
    static func codecs(for format: StoreAddress.Format) -> [String] {
        switch format {
        case .zarr: return Codec.commandLineNames
        case .hdf5: return ["raw", "gzip"]
        case .tiff: return ["raw", "gzip", "zlib", "zstd"]
        }
    }

    /// True when emflow wrote the volume at `address` (its provenance file is there).
    static func writtenByEmflow(_ address: StoreAddress) -> Bool {
        FileManager.default.fileExists(atPath: Stores.sidecarPath(for: address, name: Provenance.name))
    }

    public func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        guard let output = stage.output, let input = context.inputs["input"] else { preconditionFailure("write stage '\(stage.name)' was described") }
        let address = stage.store("output")!
        let chunks = Self.chunkShape(stage, address: address, blockShape: context.execution.blockShape, shape: input.shape)
        let spec = VolumeSpec(shape: output.shape, dataType: output.dataType, chunkShape: chunks, voxelSize: output.voxelSize,
                              origin: output.origin,
                              codec: try Codec.parse(stage.text("codec") ?? Self.defaultCodec(for: address.format), level: stage.integer("level")))
        return Writer(address: address, spec: spec, zarr: ZarrOptions(version: stage.integer("zarr_version") ?? 2))
    }
}

/// Writes blocks into a store created (or reopened) at the start of a run.
final class Writer: BlockSink {
    let outputAddress: StoreAddress
    private let spec: VolumeSpec
    private let zarr: ZarrOptions
    private var store: VolumeStore?

    init(address: StoreAddress, spec: VolumeSpec, zarr: ZarrOptions) {
        self.outputAddress = address
        self.spec = spec
        self.zarr = zarr
    }

    func sidecarPath(_ name: String) -> String {
        Stores.sidecarPath(for: outputAddress, name: name)
    }

    var lockFile: String { OutputLock.lockPath(for: outputAddress) }

    func open(resume: Bool) throws {
        if resume {
            let existing = try Stores.open(outputAddress, writable: true)
            let m = existing.metadata
            guard m.shape == spec.shape, m.dataType == spec.dataType, m.chunkShape == spec.chunkShape else {
                throw PipelineError.execution("\(outputAddress): the output left by an interrupted run has shape \(m.shape), \(m.dataType), chunks \(m.chunkShape); expected \(spec.shape), \(spec.dataType), chunks \(spec.chunkShape)")
            }
            store = existing
        } else {
            // Validation made sure that an existing output is emflow's own or may be replaced.
            store = try Stores.create(outputAddress, spec: spec, overwrite: true, zarr: zarr)
        }
    }

    func store(_ block: Block, inputs: [String: AnyVolume]) throws {
        guard let store, let volume = inputs["input"] else { preconditionFailure("writer used before open") }
        guard let inside = block.writeBox.intersection(Box(shape: spec.shape)) else { return }
        try volume.cropped(to: inside).write(to: store)
        // HDF5 buffers writes until flushed, and the block's done marker must not precede its
        // data. (Zarr chunks and TIFF slices are files on disk once written; a multi-page TIFF
        // is assembled when the run closes it.)
        if outputAddress.format == .hdf5 { try store.flush() }
    }

    func close() throws {
        try store?.flush()
    }
}
