import EMVolume

/// What a read does with voxels outside the volume.
public enum OutsidePolicy: Hashable, Sendable {
    /// Reading outside the volume is an error (`StorageError.outsideVolume`).
    case error
    /// Voxels outside the volume read as this value.
    case fill(VoxelValue)
}

/// One volume in some format: metadata, reads of any box, chunk-aligned writes.
///
/// Implementations are safe to use from several threads at once, and several processes may
/// write distinct chunks of one store (each format documents how it achieves that).
public protocol VolumeStore: AnyObject {
    /// The address this store was opened at.
    var address: StoreAddress { get }
    /// Shape, type, chunking and world placement of the volume.
    var metadata: VolumeMetadata { get }

    /// Reads `box` into `buffer` (dense z, y, x, native byte order, `box.voxelCount *
    /// metadata.dataType.size` bytes). The box may cross chunk borders; parts outside the
    /// volume follow `outside`.
    func readBytes(_ box: Box, into buffer: UnsafeMutableRawBufferPointer, outside: OutsidePolicy) throws

    /// Writes `box` from `buffer` (dense z, y, x, native byte order). The box must lie inside
    /// the volume and be aligned to the chunk grid (its end may be the volume's end).
    func writeBytes(_ box: Box, from buffer: UnsafeRawBufferPointer) throws

    /// Makes every write durable and visible to other readers (closes files that need it).
    func flush() throws

    /// Bytes the store occupies on disk.
    func bytesOnDisk() throws -> Int64
}

extension VolumeStore {
    /// Reads a box as a typed volume.
    ///
    /// - Throws: `StorageError.dataTypeMismatch` when `T` is not the stored type, and
    ///   `StorageError.outsideVolume` for a box outside the volume unless `fill` is given.
    public func read<T: VoxelScalar>(_ box: Box, as type: T.Type = T.self, fill: T? = nil) throws -> Volume<T> {
        try checkType(T.dataType)
        var volume = Volume<T>(box: box)
        let policy: OutsidePolicy = fill.map { .fill(VoxelValue($0)) } ?? .error
        try volume.storage.withUnsafeMutableBytes { try readBytes(box, into: $0, outside: policy) }
        return volume
    }

    /// Reads the whole volume as a typed volume.
    public func readAll<T: VoxelScalar>(as type: T.Type = T.self) throws -> Volume<T> {
        try read(metadata.bounds, as: type)
    }

    /// Writes a typed volume at its box (chunk-aligned).
    public func write<T: VoxelScalar>(_ volume: Volume<T>) throws {
        try checkType(T.dataType)
        try volume.storage.withUnsafeBytes { try writeBytes(volume.box, from: $0) }
    }

    /// Throws `dataTypeMismatch` unless the store holds `type`.
    public func checkType(_ type: DataType) throws {
        guard type == metadata.dataType else {
            throw StorageError.dataTypeMismatch(address: address.description, expected: type.rawValue, found: metadata.dataType.rawValue)
        }
    }

    /// The chunk grid of this store.
    public var chunkGrid: ChunkGrid { ChunkGrid(shape: metadata.shape, chunkShape: metadata.chunkShape) }

    /// Checks that `box` can be read under `outside` (inside the volume, or a fill value given).
    public func checkReadable(_ box: Box, outside: OutsidePolicy) throws {
        if case .error = outside, !metadata.bounds.contains(box) {
            throw StorageError.outsideVolume(address: address.description, box: box.description, shape: metadata.shape.description)
        }
    }

    /// Checks that `box` lies inside the volume and on the chunk grid.
    public func checkWritable(_ box: Box, bufferBytes: Int) throws {
        guard metadata.bounds.contains(box), !box.isEmpty else {
            throw StorageError.outsideVolume(address: address.description, box: box.description, shape: metadata.shape.description)
        }
        guard chunkGrid.isAligned(box) else {
            throw StorageError.notChunkAligned(address: address.description, box: box.description, chunks: metadata.chunkShape.description)
        }
        precondition(bufferBytes == box.voxelCount * metadata.dataType.size,
                     "write buffer holds \(bufferBytes) bytes, box \(box) needs \(box.voxelCount * metadata.dataType.size)")
    }
}

/// The regular chunk grid of a stored volume.
public struct ChunkGrid: Hashable, Sendable {
    /// Volume extent.
    public let shape: Coordinate
    /// Chunk extent.
    public let chunkShape: Coordinate

    /// Creates the grid of `chunkShape` chunks over a volume of `shape`.
    public init(shape: Coordinate, chunkShape: Coordinate) {
        self.shape = shape
        self.chunkShape = chunkShape
    }

    /// Number of chunks along each axis.
    public var gridShape: Coordinate { Coordinate.ceilDivide(shape, chunkShape) }

    /// The box a chunk covers in the volume, clipped to the volume's end.
    public func box(ofChunk index: Coordinate) -> Box {
        let begin = index * chunkShape
        return Box(begin: begin, end: Coordinate.minimum(begin + chunkShape, shape))
    }

    /// The full (unclipped) box of a chunk: what a chunk file stores in formats that pad edge chunks.
    public func fullBox(ofChunk index: Coordinate) -> Box {
        Box(offset: index * chunkShape, shape: chunkShape)
    }

    /// Indices of the chunks overlapping `box` (clipped to the volume), row-major.
    public func chunks(overlapping box: Box) -> [Coordinate] {
        guard let inside = box.intersection(Box(shape: shape)) else { return [] }
        let first = Coordinate.floorDivide(inside.offset, chunkShape)
        let last = Coordinate.floorDivide(inside.end - Coordinate(repeating: 1), chunkShape)
        var result: [Coordinate] = []
        result.reserveCapacity((last - first + Coordinate(repeating: 1)).product)
        for z in first.z...last.z {
            for y in first.y...last.y {
                for x in first.x...last.x { result.append(Coordinate(z, y, x)) }
            }
        }
        return result
    }

    /// True when `box` starts on chunk boundaries and ends on chunk boundaries or the volume's end.
    public func isAligned(_ box: Box) -> Bool {
        for axis in 0..<3 {
            if box.offset[axis] % chunkShape[axis] != 0 { return false }
            if box.end[axis] % chunkShape[axis] != 0 && box.end[axis] != shape[axis] { return false }
        }
        return true
    }
}
