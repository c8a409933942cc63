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
    public var fillValue: VoxelValue

    /// Creates a metadata record.
    public init(shape: Coordinate, dataType: DataType, chunkShape: Coordinate, voxelSize: VoxelSize = .unit,
                origin: WorldPoint = .zero, codec: String = "raw", fillValue: VoxelValue = 0) {
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

/// Sizes computed without overflow, and the limits on them: metadata from a file may claim
/// any extent, and a product that overflows `Int` would stop the process instead of giving
/// an error.
public enum VolumeSizes {
    /// The largest chunk emflow decodes (2 GiB): chunks are decoded whole into memory.
    public static let maximumChunkBytes = 1 << 31

    /// `shape`'s voxel count times `elementSize`, or nil when it does not fit in `Int`.
    public static func bytes(_ shape: Coordinate, elementSize: Int) -> Int? {
        var total = elementSize
        for extent in shape.components {
            guard extent >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// Throws `malformedMetadata` naming `path` when a volume of `shape` has more bytes than
    /// a 64-bit size holds.
    public static func checkVolume(_ shape: Coordinate, elementSize: Int, at path: String, key: String = "shape") throws {
        guard bytes(shape, elementSize: elementSize) != nil else {
            throw StorageError.malformedMetadata(path: path, key: key, expected: "a shape whose bytes fit in 64 bits, got \(shape) (\(elementSize)-byte elements)")
        }
    }

    /// Throws `malformedMetadata` when one chunk of `shape` is larger than `maximumChunkBytes`.
    public static func checkChunk(_ shape: Coordinate, elementSize: Int, at path: String, key: String = "chunks") throws {
        guard let size = bytes(shape, elementSize: elementSize), size <= maximumChunkBytes else {
            throw StorageError.malformedMetadata(path: path, key: key, expected: "chunks of at most 2 GiB (emflow decodes a chunk whole), got \(shape) of \(elementSize)-byte elements")
        }
    }
}

/// Everything needed to create a new volume in a store.
public struct VolumeSpec: Hashable, Codable, Sendable {
    public var shape: Coordinate
    public var dataType: DataType
    public var chunkShape: Coordinate
    public var voxelSize: VoxelSize
    public var origin: WorldPoint
    public var codec: Codec
    public var fillValue: VoxelValue

    /// Creates a spec; `chunkShape` is clipped to `shape` by the stores that need it.
    public init(shape: Coordinate, dataType: DataType, chunkShape: Coordinate, voxelSize: VoxelSize = .unit,
                origin: WorldPoint = .zero, codec: Codec = .zstd(level: 5), fillValue: VoxelValue = 0) {
        self.shape = shape
        self.dataType = dataType
        self.chunkShape = chunkShape
        self.voxelSize = voxelSize
        self.origin = origin
        self.codec = codec
        self.fillValue = fillValue
    }

    /// Validates shapes: positive extents, positive chunks, a byte count that fits.
    public func validate(for address: String) throws {
        guard Coordinate.all(shape, .zero, >) else {
            throw StorageError.malformedMetadata(path: address, key: "shape", expected: "positive extents, got \(shape)")
        }
        guard Coordinate.all(chunkShape, .zero, >) else {
            throw StorageError.malformedMetadata(path: address, key: "chunks", expected: "positive extents, got \(chunkShape)")
        }
        try VolumeSizes.checkVolume(shape, elementSize: dataType.size, at: address)
    }
}
