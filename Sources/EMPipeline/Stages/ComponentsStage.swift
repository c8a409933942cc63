import EMLabels
import EMEvaluation
import EMStorage
import EMStores
import EMVolume
import Foundation

/// `kind: components`: connected components of the nonzero voxels, labelled 1, 2, ... in
/// order of each component's first voxel in a z, y, x scan (as a whole-volume scan would).
///
/// Blockwise: each block is labelled on its own (labels kept in a scratch store beside the
/// outputs), touching labels are united across block faces, and blocks are relabelled as
/// they stream to the outputs. Memory grows with the number of components, not voxels.
public struct ComponentsStage: StageKind {
    static let input = Parameter<VolumeReference>.required("input", .volume, "The mask to label (nonzero = foreground): a stage name or a store address.")
    static let connectivity = Parameter.choice("connectivity", default: Connectivity.faces,
                                               "Neighbours that connect: 6 (faces), 18 (faces and edges) or 26 (also corners).")
    static let dataType = Parameter<DataType>.optional("data_type", .dataType(allowed: [.uint32, .uint64]), default: .uint64, "Element type of the labels.")

    /// A components stage's parameters.
    public struct Parameters: Sendable {
        /// Which voxels touch.
        public var connectivity: Connectivity
        /// Element type of the labels.
        public var dataType: DataType
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "components", summary: "Labels the connected components of the nonzero voxels (1, 2, ... in scan order).",
                    details: "Runs in three passes: each block is labelled alone, labels touching across block faces are merged, and blocks are relabelled as they are written. The block labels are kept in the work directory so that an interrupted run resumes.",
                    parameters: [Self.input.schema, Self.connectivity.schema, Self.dataType.schema])
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(connectivity: values[Self.connectivity], dataType: values[Self.dataType])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name] else { return nil }
        if Coordinate.minimum(check.execution.blockShape, input.shape).product >= Int(UInt32.max) {
            check.error("a block of \(check.execution.blockShape) holds too many voxels to label (at most 2^32 - 1)")
            return nil
        }
        return input.with(dataType: parameters.dataType)
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        ComponentLabeller(connectivity: parameters.connectivity, outputType: parameters.dataType, stage: stage.name)
    }
}

/// Connectivity is written as its neighbour count: 6, 18 or 26.
extension Connectivity: ParameterChoice {
    public var word: String { String(neighbourCount) }
}

/// Runs the labelling and merge passes in `prepare` and relabels blocks in `compute`.
final class ComponentLabeller: BlockTransform {
    private let outputType: DataType
    private let connectivity: Connectivity
    private let stageName: String
    private var grid: BlockGrid?
    private var scratch: VolumeStore?
    private var offsets: [Int] = []
    private var mapping: [UInt64] = []

    init(connectivity: Connectivity, outputType: DataType, stage: String) {
        self.connectivity = connectivity
        self.outputType = outputType
        self.stageName = stage
    }

    /// The labels are read from the scratch store, not computed from the input, once prepared.
    var streamsInputs: Bool { false }

    /// The merge needs the label tables of every block.
    var preparesAcrossBlocks: Bool { true }

    private struct MergeRecord: Codable {
        var offsets: [Int]
        var components: Int
    }

    func prepare(_ context: PreparationContext) throws {
        let grid = context.grid
        self.grid = grid
        let directory = context.directory
        let tables = directory + "/blocks"
        let scratchAddress = StoreAddress(format: .zarr, path: directory + "/labels.zarr")
        let mergePath = directory + "/merge.json", mappingPath = directory + "/mapping.bin"

        if let data = FileManager.default.contents(atPath: mergePath), let record = try? JSONDecoder().decode(MergeRecord.self, from: data),
           let saved = FileManager.default.contents(atPath: mappingPath) {
            scratch = try Stores.open(scratchAddress)
            offsets = record.offsets
            mapping = saved.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
            context.recordSkipped(pass: "label")
            context.recordSkipped(pass: "merge")
            return
        }

        // Pass 1: label each block alone; a table of its labels marks it done.
        let done = Set(((try? FileManager.default.contentsOfDirectory(atPath: tables)) ?? []).compactMap { Int($0) })
        let store = try Self.openScratch(scratchAddress, grid: grid, fresh: done.isEmpty && context.shard == nil)
        scratch = store
        try FileManager.default.createDirectory(atPath: tables, withIntermediateDirectories: true)
        let (connectivity, region) = (self.connectivity, grid.region)
        try context.stream("input", pass: "label", skipping: done) { block, volume in
            guard let inside = block.writeBox.intersection(region) else { return }
            let labelled = try volume.cropped(to: inside).apply(LabelBlock(connectivity: connectivity))
            try store.write(labelled.labels)
            if store.address.format != .zarr { try store.flush() }
            var table = [UInt64(labelled.count)] + labelled.firstIndices(regionShape: region.shape)
            try table.withUnsafeMutableBytes { try AtomicFile.write(UnsafeRawBufferPointer($0), to: tables + "/\(block.id)") }
        }
        // A shard labels only its blocks; the merge needs every block's table.
        if context.shard != nil { return }

        // Pass 2: unite labels across block faces and rank components by first voxel.
        var counts: [Int] = []
        var firstIndex: [[UInt64]] = []
        for id in 0..<grid.count {
            guard let data = FileManager.default.contents(atPath: tables + "/\(id)"), data.count >= 8 else {
                throw PipelineError.execution("stage '\(stageName)': the label table of block \(id) is missing or damaged in \(tables)")
            }
            let values = data.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
            guard values.count == Int(values[0]) + 1 else {
                throw PipelineError.execution("stage '\(stageName)': the label table of block \(id) in \(tables) is damaged")
            }
            counts.append(Int(values[0]))
            firstIndex.append(Array(values.dropFirst()))
        }
        var merge = ComponentMerge(grid: grid, connectivity: connectivity, counts: counts)
        try merge.joinAll { try store.read($0, as: UInt32.self) }
        let (mapping, components) = merge.labels(firstIndex: firstIndex)
        if outputType == .uint32 && components > Int(UInt32.max) {
            throw PipelineError.execution("stage '\(stageName)': \(components) components do not fit in uint32 labels (use data_type: uint64)")
        }
        try mapping.withUnsafeBytes { try AtomicFile.write($0, to: mappingPath) }
        try JSONFiles.write(MergeRecord(offsets: merge.offsets, components: components), to: mergePath)
        self.offsets = merge.offsets
        self.mapping = mapping
        context.record(pass: "merge", blocks: grid.count)
    }

    /// The scratch store of block labels, one chunk per block. A single process with no block
    /// labelled yet creates it afresh (`fresh`); shards, which run at the same time and write
    /// distinct chunks, open the store another shard or an earlier run made, or create it.
    /// Blocks without a label table are labelled again, whatever their chunk holds.
    private static func openScratch(_ address: StoreAddress, grid: BlockGrid, fresh: Bool) throws -> VolumeStore {
        let spec = VolumeSpec(shape: grid.region.shape, dataType: .uint32, chunkShape: Coordinate.minimum(grid.blockShape, grid.region.shape),
                              codec: .zstd(level: 1))
        if fresh { return try Stores.create(address, spec: spec, overwrite: true) }
        if let store = try? Stores.open(address, writable: true) { return store }
        do { return try Stores.create(address, spec: spec, overwrite: false) } catch {
            // Another shard is creating it: its metadata appears in a moment.
            for _ in 0..<40 {
                Thread.sleep(forTimeInterval: 0.05)
                if let store = try? Stores.open(address, writable: true) { return store }
            }
            throw error
        }
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        guard let grid, let scratch else { preconditionFailure("components stage '\(stageName)' computed before prepare") }
        var labels = Volume<UInt64>(box: box)
        guard let inside = box.intersection(grid.region) else { return AnyVolume(labels).converted(to: outputType) }
        let first = Coordinate.floorDivide(inside.offset - grid.region.offset, grid.blockShape)
        let last = Coordinate.minimum(Coordinate.floorDivide(inside.end - Coordinate(repeating: 1) - grid.region.offset, grid.blockShape),
                                      grid.gridShape - Coordinate(repeating: 1))
        let mapping = self.mapping
        for z in first.z...last.z {
            for y in first.y...last.y {
                for x in first.x...last.x {
                    let block = grid.block(at: Coordinate(z, y, x))
                    guard let part = block.writeBox.intersection(inside) else { continue }
                    let local = try scratch.read(part, as: UInt32.self)
                    let offset = offsets[block.id]
                    let relabelled = local.map { $0 == 0 ? UInt64(0) : mapping[offset + Int($0) - 1] }
                    labels.paste(relabelled)
                }
            }
        }
        return AnyVolume(labels).converted(to: outputType)
    }
}

/// Labels one block of any element type.
private struct LabelBlock: VolumeOperation {
    let connectivity: Connectivity

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> LabelledComponents {
        LabelledComponents(volume, connectivity: connectivity)
    }
}
