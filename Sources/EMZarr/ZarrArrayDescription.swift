import EMStorage
import EMVolume

/// How chunk indices become file names below the array's directory.
struct ChunkKeyEncoding: Sendable {
    /// Prefix component: `c` for Zarr v3's default encoding, none for v2.
    var prefix: String?
    /// Separator between indices (and after the prefix): `/` or `.`.
    var separator: String

    /// The relative file name of a chunk, e.g. `c/0/1/2` or `0.1.2`.
    func key(_ index: Coordinate) -> String {
        let indices = index.components.map(String.init)
        return ((prefix.map { [$0] } ?? []) + indices).joined(separator: separator)
    }
}

/// Zarr v3 `sharding_indexed`: each chunk file (shard) holds a grid of independently
/// encoded inner chunks and an index of `(offset, nbytes)` pairs (both 2^64-1 for an absent
/// inner chunk), in C order of the inner grid.
struct ShardLayout: Sendable {
    /// Shape of one inner chunk; divides the shard shape.
    var innerChunkShape: Coordinate
    /// Encoding of each inner chunk.
    var inner: ChunkEncoding
    /// Encoding of the index (byte order and optional crc32c; never compressed).
    var index: ChunkEncoding
    /// True for an index at the end of the shard (Zarr's default), false for the start.
    var indexAtEnd: Bool
}

/// Everything emflow needs from a Zarr array's metadata, in either format version.
struct ZarrArrayDescription: Sendable {
    /// 2 or 3.
    var version: Int
    var shape: Coordinate
    /// Shape of one chunk file: the shard shape for a sharded array.
    var chunkShape: Coordinate
    var dataType: DataType
    var fillValue: VoxelValue
    var keyEncoding: ChunkKeyEncoding
    /// Encoding of each chunk file (unused when `sharding` is set).
    var encoding: ChunkEncoding
    /// Sharding, when chunk files are shards.
    var sharding: ShardLayout?

    /// Human-readable codec chain for `VolumeMetadata.codec`.
    var codecDescription: String {
        guard let sharding else { return encoding.description }
        return "\(sharding.inner.description), shards \(chunkShape) of inner chunks \(sharding.innerChunkShape)"
    }

    /// The smallest independently decodable block: the inner chunk of a sharded array.
    var decodeChunkShape: Coordinate { sharding?.innerChunkShape ?? chunkShape }
}
