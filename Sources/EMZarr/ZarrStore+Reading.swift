import EMStorage
import EMVolume

/// One independently decodable piece of a read: a chunk file, an inner chunk of a shard, or
/// a chunk known to be absent.
private struct ReadPiece {
    enum Source {
        case file(String)
        case range(ChunkFiles.Handle, offset: Int, count: Int, name: String)
        case absent
    }

    /// The chunk's full (unclipped) box in the volume.
    var fullBox: Box
    var source: Source
}

extension ZarrStore {
    /// Reads any box; chunks are decoded in parallel, missing chunks give the fill value.
    ///
    /// - Throws: `StorageError.outsideVolume` for a box not inside the volume under
    ///   `OutsidePolicy.error`, `corruptChunk` naming the chunk file for undecodable chunks.
    public func readBytes(_ box: Box, into buffer: UnsafeMutableRawBufferPointer, outside: OutsidePolicy) throws {
        try checkReadable(box, outside: outside)
        let elementSize = metadata.dataType.size
        precondition(buffer.count == box.voxelCount * elementSize,
                     "read buffer holds \(buffer.count) bytes, box \(box) needs \(box.voxelCount * elementSize)")
        guard !box.isEmpty else { return }
        if case let .fill(value) = outside, !metadata.bounds.contains(box) {
            fillRegion(box, with: value.elementBytes(as: metadata.dataType), in: buffer.baseAddress!, box: box)
        }
        let output = buffer.baseAddress!
        let chunks = chunkGrid.chunks(overlapping: box)
        // Batches bound the number of shard files held open at once.
        for start in stride(from: 0, to: chunks.count, by: Self.chunksPerBatch) {
            let pieces = try readPieces(chunks[start..<min(start + Self.chunksPerBatch, chunks.count)], box: box)
            try parallelForEach(pieces.count) { i in try place(pieces[i], into: output, box: box) }
        }
    }

    /// Chunk files (shards) a read handles at once.
    private static let chunksPerBatch = 256

    /// The pieces to decode for `box` in some of its chunks: chunk files, or (sharded) inner
    /// chunks located through the shard indexes, which are read in parallel first.
    private func readPieces(_ chunks: ArraySlice<Coordinate>, box: Box) throws -> [ReadPiece] {
        let chunks = Array(chunks)
        guard let sharding = array.sharding else {
            return chunks.map { ReadPiece(fullBox: chunkGrid.fullBox(ofChunk: $0), source: .file(chunkPath($0))) }
        }
        let perShard = Coordinate.zip(array.chunkShape, sharding.innerChunkShape, /)
        var shards = [(ChunkFiles.Handle, ShardIndex)?](repeating: nil, count: chunks.count)
        try shards.withUnsafeMutableBufferPointer { shards in
            try parallelForEach(chunks.count) { i in
                guard let handle = try ChunkFiles.Handle(path: chunkPath(chunks[i])) else { return }
                shards[i] = (handle, try ShardIndex.read(handle, innerCount: perShard.product, layout: sharding))
            }
        }
        let innerGrid = ChunkGrid(shape: metadata.shape, chunkShape: sharding.innerChunkShape)
        var pieces: [ReadPiece] = []
        for (chunk, shard) in zip(chunks, shards) {
            let shardBox = chunkGrid.fullBox(ofChunk: chunk)
            guard let (handle, index) = shard else {
                pieces.append(ReadPiece(fullBox: shardBox, source: .absent))
                continue
            }
            for inner in innerGrid.chunks(overlapping: shardBox.intersection(box)!) {
                let local = inner - chunk * perShard
                let source: ReadPiece.Source
                if let range = index.range((local.z * perShard.y + local.y) * perShard.x + local.x) {
                    source = .range(handle, offset: range.offset, count: range.count, name: "\(handle.path) (inner chunk \(local))")
                } else {
                    source = .absent
                }
                pieces.append(ReadPiece(fullBox: innerGrid.fullBox(ofChunk: inner), source: source))
            }
        }
        return pieces
    }

    /// Decodes one piece and copies its part of `box` into the output.
    private func place(_ piece: ReadPiece, into output: UnsafeMutableRawPointer, box: Box) throws {
        guard let region = piece.fullBox.intersection(box)?.intersection(metadata.bounds) else { return }
        let encoded: [UInt8], name: String
        switch piece.source {
        case .absent:
            fillRegion(region, with: fillPattern, in: output, box: box)
            return
        case let .file(path):
            guard let bytes = try ChunkFiles.read(path) else {
                fillRegion(region, with: fillPattern, in: output, box: box)
                return
            }
            (encoded, name) = (bytes, path)
        case let .range(handle, offset, count, pieceName):
            (encoded, name) = (try handle.read(offset: offset, count: count), pieceName)
        }
        let elementSize = metadata.dataType.size
        var chunk = [UInt8](repeating: 0, count: piece.fullBox.voxelCount * elementSize)
        try chunk.withUnsafeMutableBytes { chunk in
            try encoded.withUnsafeBytes { try (array.sharding?.inner ?? array.encoding).decode($0, into: chunk, elementSize: elementSize, path: name) }
            copyRegion(region, elementSize: elementSize, from: chunk.baseAddress!, box: piece.fullBox, to: output, box: box)
        }
    }
}
