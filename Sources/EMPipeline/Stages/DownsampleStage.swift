import EMStorage
import EMStores
import EMVolume
import EMZarr
import Foundation

/// `kind: downsample`: a multiscale pyramid of a stored volume, written as OME-Zarr (level 0
/// the volume itself, then each level downsampled from the one before), once the stages
/// writing the volume have finished.
public struct DownsampleStage: StageKind {
    /// How the voxels of one downsampling cell become one voxel.
    public enum Method: String, ParameterChoice, Sendable {
        /// Mode for uint32 and uint64 (labels), else mean (images, scores).
        case auto
        /// The mean, rounded for integer types.
        case mean
        /// The most frequent value (ties: the smallest), so that labels stay labels.
        case mode
    }

    static let input = Parameter<VolumeReference>.required("input", .storedVolume, "The volume: a write stage of this pipeline or the address of an existing volume.")
    static let output = Parameter<String>.required("output", .text, "The Zarr group of the pyramid (created), e.g. out.zarr/raw_pyramid: arrays 0 (the volume), 1, 2, ...")
    static let levels = Parameter<Int>.optional("levels", .integer(minimum: 1, maximum: 16), default: 3, "Levels below the full resolution.")
    static let factors = Parameter<Coordinate?>.optional("factors", .shape, "Factor z,y,x from each level to the next (default: 2 along the axes whose voxels are within 1.5 x the finest, so 40x4x4 nm voxels go 1,2,2 until near-isotropic, then 2,2,2; an axis of one voxel stays).")
    static let method = Parameter.choice("method", default: Method.auto, "mean (images, probabilities), mode (labels) or auto: mode for uint32 and uint64, else mean (a uint8 mask needs mode).")
    static let chunks = Parameter<Coordinate?>.optional("chunks", .shape, "Chunk shape of every level (default: the volume's, capped at 64,256,256).")
    static let zarrVersion = Parameter<Int>.optional("zarr_version", .integer(minimum: 2, maximum: 3), default: 2, "Zarr format: 2 (OME-Zarr 0.4) or 3 (OME-Zarr 0.5).")

    /// A downsample stage's parameters.
    public struct Parameters: Sendable {
        /// The volume.
        public var input: VolumeReference
        /// The pyramid's group directory.
        public var output: String
        /// Levels below the full resolution.
        public var levels: Int
        /// The factor of every level (nil: chosen from the voxel size).
        public var factors: Coordinate?
        /// Mean, mode or by element type.
        public var method: Method
        /// Chunk shape of every level (nil: the volume's, capped).
        public var chunks: Coordinate?
        /// Zarr format of the pyramid.
        public var zarrVersion: Int
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "downsample", summary: "Builds a multiscale pyramid (OME-Zarr) of a stored volume, for viewers that zoom out.",
                    details: "Runs after every blockwise stage has finished, chunk by chunk (memory bounded by a chunk of each level and the cells under it). Level k has the voxel size of level 0 times the product of the factors, and its voxel (0, 0, 0) is centred on the cell it summarises, as OME-Zarr places it. The pyramid's group holds one multiscales entry listing every level (neuroglancer and napari open it as one image). Each level's finished chunks are kept track of, so an interrupted run resumes; a volume rewritten at the same address builds the pyramid afresh.",
                    parameters: [Self.input.schema, Self.output.schema, Self.levels.schema, Self.factors.schema, Self.method.schema,
                                 Self.chunks.schema, Self.zarrVersion.schema],
                    isSink: true)
    }

    public var phase: StagePhase { .afterBlocks }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(input: values[Self.input], output: values[Self.output], levels: values[Self.levels], factors: values[Self.factors],
                   method: values[Self.method], chunks: values[Self.chunks], zarrVersion: values[Self.zarrVersion])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let volume = WriteStage.describeStored(parameters.input, parameter: Self.input.name, &check) else { return nil }
        let group = StoreAddress(format: .zarr, path: parameters.output)
        guard parameters.output.lowercased().contains(".zarr") else {
            check.error("the pyramid is a Zarr group: give a path inside a .zarr directory, e.g. out.zarr/pyramid", parameter: Self.output.name)
            return nil
        }
        if case let .store(address) = parameters.input, StoreIdentity(address).overlaps(StoreIdentity(group)) {
            check.error("'\(parameters.output)' holds the input '\(address)': building the pyramid there would destroy it", parameter: Self.output.name)
            return nil
        }
        if let foreign = Self.foreignContent(parameters.output) {
            check.error("'\(parameters.output)' already holds '\(foreign)' and was not written by a downsample stage: remove it or choose another output",
                        parameter: Self.output.name)
            return nil
        }
        return volume
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        let address = WriteStage.storedAddress(parameters.input, in: context.pipeline)
        return Downsampler(stage: stage.name, input: address, parameters: parameters)
    }

    public func writtenFiles(_ parameters: Parameters) -> [String] { [parameters.output] }

    /// The factor from each level to the next, for a volume of `shape` and `voxelSize`.
    static func schedule(_ parameters: Parameters, shape: Coordinate, voxelSize: VoxelSize) -> [Coordinate] {
        var sizes = voxelSize.components, extent = shape
        return (0..<parameters.levels).map { _ in
            let finest = sizes.min() ?? 1
            let factor = parameters.factors ?? Coordinate((0..<3).map { extent[$0] > 1 && sizes[$0] <= finest * 1.5 ? 2 : 1 })!
            for axis in 0..<3 { sizes[axis] *= Double(factor[axis]) }
            extent = Coordinate.ceilDivide(extent, factor)
            return factor
        }
    }

    /// The method used for voxels of `type`.
    static func resolved(_ method: Method, for type: DataType) -> Method {
        guard method == .auto else { return method }
        return type == .uint32 || type == .uint64 ? .mode : .mean
    }

    /// The name of an entry of `output` that emflow's downsampling did not make, nil when the
    /// directory is absent, empty or a pyramid written before (its step marker is there).
    private static func foreignContent(_ output: String) -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        guard !entries.contains(where: { $0.hasPrefix(".emflow-step-") }) else { return nil }
        return entries.sorted().first
    }
}

/// Builds the pyramid level by level; each level's chunks are marked done as they are written.
final class Downsampler: StageStep {
    private let stageName: String
    private let input: StoreAddress
    private let parameters: DownsampleStage.Parameters

    init(stage: String, input: StoreAddress, parameters: DownsampleStage.Parameters) {
        self.stageName = stage
        self.input = input
        self.parameters = parameters
    }

    var outputDirectory: String { parameters.output }
    var reusesFinishedResult: Bool { true }

    /// The state of the volume (`Stores.contentState`): a volume rewritten at the same address
    /// is another input.
    var contentHash: String? { Fingerprint.of("downsample-input|" + Stores.contentState(of: input)) }

    private var markerRoot: String { parameters.output + "/.emflow-levels" }

    func run(resume: Bool) throws {
        let source = try Stores.openComplete(input)
        let m = source.metadata
        if !resume { try clearOutput() }
        let fingerprint = Fingerprint.of("downsample-1|\(input)|\(contentHash ?? "")|\(parameters)")
        let chunkCap = parameters.chunks ?? Coordinate.minimum(m.chunkShape, Coordinate(64, 256, 256))
        let method = DownsampleStage.resolved(parameters.method, for: m.dataType)
        var levels: [ScaleLevel] = []
        var previous: VolumeStore = source
        var (shape, voxelSize, origin, total) = (m.shape, m.voxelSize, m.origin, Coordinate(1, 1, 1))
        for (level, factor) in ([Coordinate(1, 1, 1)] + DownsampleStage.schedule(parameters, shape: m.shape, voxelSize: m.voxelSize)).enumerated() {
            if level > 0 {
                shape = Coordinate.ceilDivide(shape, factor)
                total = total * factor
                (voxelSize, origin) = Self.placement(of: total, voxelSize: m.voxelSize, origin: m.origin)
            }
            let address = StoreAddress(format: .zarr, path: parameters.output, key: String(level))
            let spec = VolumeSpec(shape: shape, dataType: m.dataType, chunkShape: Coordinate.minimum(chunkCap, shape), voxelSize: voxelSize,
                                  origin: origin, codec: .zstd(level: 5), fillValue: m.fillValue)
            let store = try build(address, spec: spec, from: previous, factor: factor, method: method, resume: resume,
                                  fingerprint: Fingerprint.of(fingerprint + "|level \(level)"))
            levels.append(ScaleLevel(path: String(level), voxelSize: voxelSize, origin: origin))
            previous = store
        }
        try ZarrStore.writeMultiscales(group: parameters.output, name: stageName, levels: levels, zarrVersion: parameters.zarrVersion)
    }

    /// The voxel size and origin of a level whose voxels summarise cells of `total` voxels of
    /// level 0: its voxel (0, 0, 0) is centred on the first cell.
    static func placement(of total: Coordinate, voxelSize: VoxelSize, origin: WorldPoint) -> (VoxelSize, WorldPoint) {
        let size = voxelSize.components, corner = origin.components
        let scaled = (0..<3).map { size[$0] * Double(total[$0]) }
        let centred = (0..<3).map { corner[$0] + Double(total[$0] - 1) / 2 * size[$0] }
        return (VoxelSize(scaled[0], scaled[1], scaled[2]), WorldPoint(centred[0], centred[1], centred[2]))
    }

    /// Removes what an earlier configuration left in the output (not the runner's step marker).
    private func clearOutput() throws {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: parameters.output)) ?? [] where !name.hasPrefix(".emflow-step-") {
            try manager.removeItem(atPath: parameters.output + "/" + name)
        }
    }

    /// Writes one level chunk by chunk from `previous`, skipping chunks an interrupted run of
    /// the same configuration finished.
    private func build(_ address: StoreAddress, spec: VolumeSpec, from previous: VolumeStore, factor: Coordinate, method: DownsampleStage.Method,
                       resume: Bool, fingerprint: String) throws -> VolumeStore {
        let name = "level" + address.key
        let existing = resume ? DoneMarkers.existing(root: markerRoot, stage: name, fingerprint: fingerprint) : nil
        let store: VolumeStore
        let markers: DoneMarkers
        if let existing, let reopened = try? Stores.open(address, writable: true), reopened.metadata.shape == spec.shape {
            (store, markers) = (reopened, existing)
        } else {
            DoneMarkers.removeAll(in: markerRoot, stage: name)
            store = try Stores.create(address, spec: spec, overwrite: true, zarr: ZarrOptions(version: parameters.zarrVersion, writeOMEMetadata: false))
            markers = try DoneMarkers.start(root: markerRoot, stage: name, fingerprint: fingerprint)
        }
        let grid = try BlockGrid(region: Box(shape: spec.shape), blockShape: spec.chunkShape)
        let finished = markers.finished()
        let pending = grid.blocks.filter { !finished.contains($0.id) }
        let bounds = Box(shape: previous.metadata.shape)
        let lock = NSLock()
        var failure: Error?
        DispatchQueue.concurrentPerform(iterations: pending.count) { index in
            let block = pending[index]
            do {
                let read = Box(offset: block.writeBox.offset * factor, shape: block.writeBox.shape * factor).intersection(bounds)!
                let cells = try AnyVolume.read(read, from: previous, fill: spec.fillValue)
                let level = factor == Coordinate(1, 1, 1) ? cells : try cells.apply(Downsample(factor: factor, method: method, output: block.writeBox))
                try level.write(to: store)
                try markers.markDone(block)
            } catch {
                lock.lock()
                defer { lock.unlock() }
                if failure == nil { failure = error }
            }
        }
        if let failure { throw PipelineError.execution("stage '\(stageName)': \(address): \(failure)") }
        try store.flush()
        return store
    }
}

/// One voxel per cell of `factor` voxels (cells cut at the volume's far faces hold fewer): their
/// mean (rounded for integers) or their most frequent value (ties: the smallest).
struct Downsample: VolumeOperation {
    let factor: Coordinate
    let method: DownsampleStage.Method
    /// The box of the result, in the coarser level's voxels; the volume covers its cells.
    let output: Box

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> AnyVolume {
        var result = Volume<T>(box: output)
        let shape = volume.shape, offset = volume.box.offset
        var cell: [T] = []
        cell.reserveCapacity(factor.product)
        volume.storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                var index = 0
                for z in output.offset.z..<output.end.z {
                    let z0 = z * factor.z - offset.z, z1 = Swift.min(z0 + factor.z, shape.z)
                    for y in output.offset.y..<output.end.y {
                        let y0 = y * factor.y - offset.y, y1 = Swift.min(y0 + factor.y, shape.y)
                        for x in output.offset.x..<output.end.x {
                            let x0 = x * factor.x - offset.x, x1 = Swift.min(x0 + factor.x, shape.x)
                            cell.removeAll(keepingCapacity: true)
                            for cz in z0..<z1 {
                                for cy in y0..<y1 {
                                    let row = (cz * shape.y + cy) * shape.x
                                    for cx in x0..<x1 { cell.append(source[row + cx]) }
                                }
                            }
                            target[index] = method == .mode ? Self.mode(&cell) : Self.mean(cell)
                            index += 1
                        }
                    }
                }
            }
        }
        return AnyVolume(result)
    }

    /// The mean, rounded and clamped for integer types.
    private static func mean<T: VoxelScalar>(_ values: [T]) -> T {
        var sum = 0.0
        for value in values { sum += value.doubleValue }
        return T(clampingDouble: sum / Double(values.count))
    }

    /// The most frequent value, the smallest among equally frequent ones (`values` is sorted).
    private static func mode<T: VoxelScalar>(_ values: inout [T]) -> T {
        values.sort()
        var best = values[0], bestCount = 0, start = 0
        for i in 1...values.count where i == values.count || values[i] != values[start] {
            if i - start > bestCount { (best, bestCount) = (values[start], i - start) }
            start = i
        }
        return best
    }
}
