import EMStorage
import EMVolume

extension ZarrStore {
    /// Writes a chunk-aligned box (shard-aligned for a sharded array). Chunks are encoded in
    /// parallel and each file is replaced atomically; all-fill chunks are removed instead.
    ///
    /// - Throws: `StorageError.outsideVolume` or `notChunkAligned` for a bad box,
    ///   `unwritable` naming the chunk file when it cannot be written.
    public func writeBytes(_ box: Box, from buffer: UnsafeRawBufferPointer) throws {
        try checkWritable(box, bufferBytes: buffer.count)
        let chunks = chunkGrid.chunks(overlapping: box)
        try parallelForEach(chunks.count) { i in
            let path = chunkPath(chunks[i])
            let bytes: [UInt8]?
            if let sharding = array.sharding {
                bytes = try encodeShard(chunks[i], layout: sharding, from: buffer, box: box)
            } else {
                bytes = try encodeChunk(chunkGrid.fullBox(ofChunk: chunks[i]), encoding: array.encoding, from: buffer, box: box)
            }
            if let bytes { try ChunkFiles.write(bytes, to: path) } else { try ChunkFiles.remove(path) }
        }
    }

    /// Encodes the chunk covering `fullBox` from the voxels of `box` in `buffer` (padding an
    /// edge chunk with the fill value), or returns nil when every voxel is the fill value.
    private func encodeChunk(_ fullBox: Box, encoding: ChunkEncoding, from buffer: UnsafeRawBufferPointer, box: Box) throws -> [UInt8]? {
        guard let region = fullBox.intersection(box) else { return nil }
        let elementSize = metadata.dataType.size
        var chunk = [UInt8](repeating: 0, count: fullBox.voxelCount * elementSize)
        return try chunk.withUnsafeMutableBytes { chunk in
            if region != fullBox { fillRegion(fullBox, with: fillPattern, in: chunk.baseAddress!, box: fullBox) }
            copyRegion(region, elementSize: elementSize, from: buffer.baseAddress!, box: box, to: chunk.baseAddress!, box: fullBox)
            if isUniform(UnsafeRawBufferPointer(chunk), pattern: fillPattern) { return nil }
            return try encoding.encode(chunk, elementSize: elementSize)
        }
    }

    /// Encodes a whole shard (inner chunks in parallel), or nil when all of it is fill value.
    private func encodeShard(_ shard: Coordinate, layout: ShardLayout, from buffer: UnsafeRawBufferPointer, box: Box) throws -> [UInt8]? {
        let shardBox = chunkGrid.fullBox(ofChunk: shard)
        let perShard = Coordinate.zip(array.chunkShape, layout.innerChunkShape, /)
        var inner = [[UInt8]?](repeating: nil, count: perShard.product)
        try inner.withUnsafeMutableBufferPointer { inner in
            try parallelForEach(inner.count) { i in
                let local = Coordinate(i / (perShard.y * perShard.x), (i / perShard.x) % perShard.y, i % perShard.x)
                let innerBox = Box(offset: shardBox.offset + local * layout.innerChunkShape, shape: layout.innerChunkShape)
                inner[i] = try encodeChunk(innerBox, encoding: layout.inner, from: buffer, box: box)
            }
        }
        if inner.allSatisfy({ $0 == nil }) { return nil }
        return try ShardIndex.assemble(inner, layout: layout)
    }
}
