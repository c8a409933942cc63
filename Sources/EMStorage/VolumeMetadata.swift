import EMVolume

/// What a store says about the volume it holds.
public struct VolumeMetadata: Hashable, Codable, Sendable {
    /// Extent in voxels (z, y, x).
    public var shape: Coordinate
    /// Element type.
    public var dataType: DataType
    /// Chunk (storage tile) extent in voxels; a contiguous volume reports its whole shape.
    public var chunkShape: Coordinate
    /// Nanometres per voxel.
    public var voxelSize: VoxelSize
    /// World position (nm) of voxel (0, 0, 0).
    public var origin: WorldPoint
    /// Human-readable codec chain, e.g. `zstd (level 5)` or `gzip (level 4)`.
    public var codec: String
    /// Value of voxels in chunks that were never written.
    public var fillValue: Double

    /// Creates a metadata record.
    public init(shape: Coordinate, dataType: DataType, chunkShape: Coordinate, voxelSize: VoxelSize = .unit,
                origin: WorldPoint = .zero, codec: String = "raw", fillValue: Double = 0) {
        self.shape = shape
        self.dataType = dataType
        self.chunkShape = chunkShape
        self.voxelSize = voxelSize
        self.origin = origin
        self.codec = codec
        self.fillValue = fillValue
    }

    /// The whole volume as a box at the origin.
    public var bounds: Box { Box(shape: shape) }

    /// Bytes of the whole volume uncompressed.
    public var uncompressedBytes: Int { shape.product * dataType.size }
}

/// Everything needed to create a new volume in a store.
public struct VolumeSpec: Hashable, Codable, Sendable {
    public var shape: Coordinate
    public var dataType: DataType
    public var chunkShape: Coordinate
    public var voxelSize: VoxelSize
    public var origin: WorldPoint
    public var codec: Codec
    public var fillValue: Double

    /// Creates a spec; `chunkShape` is clipped to `shape` by the stores that need it.
    public init(shape: Coordinate, dataType: DataType, chunkShape: Coordinate, voxelSize: VoxelSize = .unit,
                origin: WorldPoint = .zero, codec: Codec = .zstd(level: 5), fillValue: Double = 0) {
        self.shape = shape
        self.dataType = dataType
        self.chunkShape = chunkShape
        self.voxelSize = voxelSize
        self.origin = origin
        self.codec = codec
        self.fillValue = fillValue
    }

    /// Validates shapes: positive extents, positive chunks.
    public func validate(for address: String) throws {
        guard Coordinate.all(shape, .zero, >) else {
            throw StorageError.malformedMetadata(path: address, key: "shape", expected: "positive extents, got \(shape)")
        }
        guard Coordinate.all(chunkShape, .zero, >) else {
            throw StorageError.malformedMetadata(path: address, key: "chunks", expected: "positive extents, got \(chunkShape)")
        }
    }
}
