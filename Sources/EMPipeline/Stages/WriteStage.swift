import EMStorage
import EMStores
import EMVolume
import EMZarr
import Foundation

/// `kind: write`: stores a volume in an HDF5, Zarr or TIFF store, chunk by chunk.
public struct WriteStage: StageKind {
    static let input = Parameter<VolumeReference>.required("input", .volume, "The volume to store: a stage name or a store address.")
    static let output = Parameter<StoreAddress>.required("output", .outputStore, "Where to write, e.g. out.zarr/labels, out.h5:volumes/labels, 'slices/*.tif'.")
    static let dataType = Parameter<DataType?>.optional("data_type", .anyDataType, "Element type of the output (default: the input's); values are rounded and clamped.")
    static let chunks = Parameter<Coordinate?>.optional("chunks", .shape, "Chunk shape z,y,x of the output (default: the block shape, cut to the volume). The block shape must be a multiple of it. TIFF is always written in whole sections.")
    static let codec = Parameter<String?>.optional("codec", .choice(Codec.commandLineNames),
                                                   "Chunk compression (default: zstd for Zarr, gzip for HDF5 and TIFF). HDF5 writes raw or gzip; TIFF raw, gzip, zlib or zstd.")
    static let level = Parameter<Int?>.optional("level", .integer(minimum: 1, maximum: 22), "Compression level (codec default when absent).")
    static let zarrVersion = Parameter<Int>.optional("zarr_version", .integer(minimum: 2, maximum: 3), default: 2, "Zarr format of a Zarr output.")
    static let overwrite = Parameter<Bool>.optional("overwrite", .boolean, default: false, "Replace an existing output that emflow did not write.")

    /// A write stage's parameters.
    public struct Parameters: Sendable {
        /// Where to write.
        public var output: StoreAddress
        /// Element type of the output (nil: the input's).
        public var dataType: DataType?
        /// Chunk shape (nil: the block shape cut to the volume).
        public var chunks: Coordinate?
        /// Compression by its command-line name (nil: the format's default).
        public var codec: String?
        /// Compression level (nil: the codec's default).
        public var level: Int?
        /// Zarr format of a Zarr output.
        public var zarrVersion: Int
        /// Replace an output emflow did not write.
        public var overwrite: Bool

        /// The codec written: the one named, else the format's default.
        var codecName: String { codec ?? WriteStage.defaultCodec(for: output.format) }
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "write", summary: "Writes a volume to an HDF5, Zarr or TIFF store.",
                    details: "Done markers and a provenance file are kept beside the output; re-running the pipeline skips blocks already written by the same configuration. An existing output not written by emflow is replaced only with overwrite: true.",
                    parameters: [Self.input.schema, Self.output.schema, Self.dataType.schema, Self.chunks.schema, Self.codec.schema,
                                 Self.level.schema, Self.zarrVersion.schema, Self.overwrite.schema],
                    isSink: true)
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(output: values[Self.output], dataType: values[Self.dataType], chunks: values[Self.chunks], codec: values[Self.codec],
                   level: values[Self.level], zarrVersion: values[Self.zarrVersion], overwrite: values[Self.overwrite])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name] else { return nil }
        let address = parameters.output
        let blockShape = check.execution.blockShape
        var valid = true
        let dataType = parameters.dataType ?? input.dataType
        if address.format == .tiff {
            if ![.uint8, .uint16, .float32].contains(dataType) {
                check.error("TIFF holds uint8, uint16 or float32 voxels, not \(dataType) (set data_type or write Zarr or HDF5)",
                            parameter: parameters.dataType == nil ? Self.output.name : Self.dataType.name)
                valid = false
            }
            if blockShape.y < input.shape.y || blockShape.x < input.shape.x {
                check.error("TIFF is written in whole sections: block_shape \(blockShape) must cover y and x of the volume \(input.shape)",
                            parameter: Self.output.name)
                valid = false
            }
        }
        let chunks = Self.chunkShape(parameters, blockShape: blockShape, shape: input.shape)
        for axis in 0..<3 where blockShape[axis] % chunks[axis] != 0 && blockShape[axis] < input.shape[axis] {
            check.error("block_shape \(blockShape) is not a multiple of chunks \(chunks): blocks would not be chunk-aligned",
                        parameter: parameters.chunks == nil ? nil : Self.chunks.name)
            valid = false
            break
        }
        if check.execution.edgeFit == .valid && !Coordinate.all(blockShape, input.shape, <=) {
            check.error("block_shape \(blockShape) is larger than the volume \(input.shape) and edge_fit is valid: nothing would be written")
            valid = false
        }
        let supported = Self.codecs(for: address.format)
        if !supported.contains(parameters.codecName) {
            check.error("codec '\(parameters.codecName)' cannot be written to \(address.format.rawValue.uppercased()) (supported: \(supported.joined(separator: ", ")))",
                        parameter: parameters.codec == nil ? nil : Self.codec.name)
            valid = false
        }
        if let pid = OutputLock.holder(of: address) {
            check.error("\(OutputLock.inUse(address.description, pid: pid))", parameter: Self.output.name)
            valid = false
        } else if !parameters.overwrite && Stores.exists(address) && !Self.writtenByEmflow(address) {
            check.error("'\(address)' already exists and was not written by emflow: set overwrite: true to replace it", parameter: Self.output.name)
            valid = false
        }
        guard valid else { return nil }
        return input.with(dataType: dataType)
    }

    /// The output's chunks: one section for TIFF, else `chunks` or the block shape cut to the volume.
    static func chunkShape(_ parameters: Parameters, blockShape: Coordinate, shape: Coordinate) -> Coordinate {
        if parameters.output.format == .tiff { return Coordinate(1, shape.y, shape.x) }
        return Coordinate.minimum(parameters.chunks ?? blockShape, shape)
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

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        guard let output = stage.output, let input = context.inputs[Self.input.name] else { preconditionFailure("write stage '\(stage.name)' was described") }
        let chunks = Self.chunkShape(parameters, blockShape: context.execution.blockShape, shape: input.shape)
        let spec = VolumeSpec(shape: output.shape, dataType: output.dataType, chunkShape: chunks, voxelSize: output.voxelSize,
                              origin: output.origin, codec: try Codec.parse(parameters.codecName, level: parameters.level))
        // The provenance survives the output's replacement, so that a run killed right after
        // it never leaves an output the next run takes for someone else's.
        let provenance = URL(fileURLWithPath: Stores.sidecarPath(for: parameters.output, name: Provenance.name)).lastPathComponent
        return Writer(address: parameters.output, spec: spec, zarr: ZarrOptions(version: parameters.zarrVersion, keptFiles: [provenance]))
    }
}

extension WriteStage {
    /// The volume a `.storedVolume` parameter names: the output of the write stage it names
    /// (`check.references[parameter]`) or an existing store; nil once the reason is recorded.
    static func describeStored(_ reference: VolumeReference, parameter: String, _ check: inout StageCheck) -> VolumeDescriptor? {
        switch reference {
        case .stage:
            guard let writer = check.references[parameter] else { return nil }
            guard writer.parameters(of: WriteStage.self) != nil, let output = writer.output else {
                check.error("stage '\(writer.name)' is a \(writer.kind.name) stage; \(parameter) names a write stage or a store address", parameter: parameter)
                return nil
            }
            return output
        case let .store(address):
            do {
                return VolumeDescriptor(metadata: try Stores.open(address).metadata)
            } catch {
                check.error("missing input: cannot open '\(address)': \(error)", parameter: parameter)
                return nil
            }
        }
    }

    /// The store a validated `.storedVolume` parameter reads: the output of the write stage it
    /// names, or the store given.
    static func storedAddress(_ reference: VolumeReference, in pipeline: Pipeline) -> StoreAddress {
        switch reference {
        case let .store(address):
            return address
        case let .stage(writer):
            guard let written = pipeline.stage(writer)?.parameters(of: WriteStage.self)?.output else {
                preconditionFailure("stage '\(writer)' was validated as a write stage")
            }
            return written
        }
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

    func open(resume: Bool, grid: BlockGrid) throws {
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
