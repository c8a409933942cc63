import EMLabels
import EMEvaluation
import EMStorage
import EMStores
import EMVolume
import Foundation

/// Runs the detect stage: `store` labels each block alone (labels into a scratch store, the
/// block's component statistics into a table that marks it labelled); `close` merges the
/// components across block faces and writes every object once.
final class Detector: BlockSink {
    private let stageName: String
    /// The run's block layout, given when the output is opened.
    private var grid: BlockGrid?
    private let placement: VoxelPlacement
    private let settings: DetectionSettings
    private let files: [DetectionFile]
    private var scratch: VolumeStore?

    /// Numbers per component in a block table: voxel count, first voxel (3), position sums
    /// (3), score sum, score maximum, lower corner (3), upper corner (3).
    private static let tableWidth = 15

    init(stage: String, placement: VoxelPlacement, settings: DetectionSettings, files: [DetectionFile]) {
        self.stageName = stage
        self.placement = placement
        self.settings = settings
        self.files = files
    }

    func sidecarPath(_ name: String) -> String {
        files[0].path + ".emflow-" + name
    }

    private var workDirectory: String { sidecarPath("detect") }
    private var tables: String { workDirectory + "/blocks" }
    private var scratchAddress: StoreAddress { StoreAddress(format: .zarr, path: workDirectory + "/labels.zarr") }

    func open(resume: Bool, grid: BlockGrid) throws {
        self.grid = grid
        if resume {
            scratch = try Stores.open(scratchAddress, writable: true)
            return
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
        try FileManager.default.createDirectory(atPath: tables, withIntermediateDirectories: true)
        scratch = try Stores.create(scratchAddress, spec: VolumeSpec(shape: grid.region.shape, dataType: .uint32,
                                                                     chunkShape: Coordinate.minimum(grid.blockShape, grid.region.shape),
                                                                     codec: .zstd(level: 1)), overwrite: true)
    }

    func store(_ block: Block, inputs: [String: AnyVolume]) throws {
        guard let scratch, let grid, let volume = inputs["input"] else { preconditionFailure("detect stage '\(stageName)' stored before open") }
        guard let inside = block.writeBox.intersection(grid.region) else { return }
        let labelled = try volume.cropped(to: inside).apply(LabelForDetection(settings: settings))
        try scratch.write(labelled.labels)
        var table: [Double] = []
        table.reserveCapacity(labelled.count * Self.tableWidth)
        for c in labelled.components {
            table += [Double(c.voxelCount), Double(c.first.z), Double(c.first.y), Double(c.first.x), c.sumZ, c.sumY, c.sumX,
                      c.scoreSum, c.scoreMax, Double(c.lower.z), Double(c.lower.y), Double(c.lower.x),
                      Double(c.upper.z), Double(c.upper.y), Double(c.upper.x)]
        }
        try table.withUnsafeBytes { try AtomicFile.write($0, to: tables + "/\(block.id)") }
    }

    /// Merges the blocks and writes the files; leaves them alone when some block was not
    /// labelled (the run reports those blocks as failed).
    func close() throws {
        guard let scratch, let grid else { return }
        var blocks: [[ComponentStatistics]] = []
        for id in 0..<grid.count {
            guard let data = FileManager.default.contents(atPath: tables + "/\(id)") else { return }
            guard data.count % (Self.tableWidth * 8) == 0 else {
                throw PipelineError.execution("stage '\(stageName)': the component table of block \(id) in \(tables) is damaged")
            }
            let values = data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
            blocks.append(stride(from: 0, to: values.count, by: Self.tableWidth).map { Self.statistics(values[$0..<$0 + Self.tableWidth]) })
        }
        var merge = ComponentMerge(grid: grid, connectivity: settings.connectivity, counts: blocks.map(\.count))
        try merge.joinAll { try scratch.read($0, as: UInt32.self) }
        let region = grid.region.shape
        let (mapping, count) = merge.labels(firstIndex: blocks.map { components in
            components.map { UInt64(($0.first.z * region.y + $0.first.y) * region.x + $0.first.x) }
        })
        var objects = [ComponentStatistics](repeating: ComponentStatistics(), count: count)
        for (id, components) in blocks.enumerated() {
            for (local, statistics) in components.enumerated() {
                objects[Int(mapping[merge.offsets[id] + local]) - 1].merge(statistics)
            }
        }
        let detections = Detection.list(objects, grid: grid, placement: placement, settings: settings)
        for file in files { try file.write(detections, settings: settings) }
    }

    private static func statistics(_ row: ArraySlice<Double>) -> ComponentStatistics {
        let v = Array(row)
        var s = ComponentStatistics()
        s.voxelCount = Int(v[0])
        s.first = Coordinate(Int(v[1]), Int(v[2]), Int(v[3]))
        (s.sumZ, s.sumY, s.sumX) = (v[4], v[5], v[6])
        (s.scoreSum, s.scoreMax) = (v[7], v[8])
        s.lower = Coordinate(Int(v[9]), Int(v[10]), Int(v[11]))
        s.upper = Coordinate(Int(v[12]), Int(v[13]), Int(v[14]))
        return s
    }
}

/// Labels one block of any element type with the detection's threshold and scale.
private struct LabelForDetection: VolumeOperation {
    let settings: DetectionSettings

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> LabelledComponents {
        LabelledComponents(volume, threshold: settings.threshold, scale: settings.scale, connectivity: settings.connectivity)
    }
}
