import EMStorage
import EMVolume

/// The index of one shard: an `(offset, nbytes)` pair per inner chunk in C order of the
/// inner grid, both 2^64-1 for an inner chunk that was never written (read as fill value).
struct ShardIndex {
    /// The marker of an absent inner chunk.
    static let absent = UInt64.max
    /// Flattened pairs: entries[2i] is the offset, entries[2i+1] the byte count.
    var entries: [UInt64]

    /// Bytes the encoded index occupies in a shard.
    static func encodedSize(innerCount: Int, layout: ShardLayout) -> Int {
        innerCount * 16 + (layout.index.checksum ? 4 : 0)
    }

    /// The byte range of inner chunk `i`, or nil when it is absent.
    func range(_ i: Int) -> (offset: Int, count: Int)? {
        let (offset, count) = (entries[2 * i], entries[2 * i + 1])
        if offset == ShardIndex.absent && count == ShardIndex.absent { return nil }
        return (Int(offset), Int(count))
    }

    /// Reads and checks the index of an open shard file.
    ///
    /// - Throws: `StorageError.corruptChunk` naming the shard when the file is too short for
    ///   its index, the checksum fails, or an entry points outside the file.
    static func read(_ shard: ChunkFiles.Handle, innerCount: Int, layout: ShardLayout) throws -> ShardIndex {
        let size = encodedSize(innerCount: innerCount, layout: layout)
        guard shard.size >= size else {
            throw StorageError.corruptChunk(path: shard.path, reason: "shard of \(shard.size) bytes is shorter than its \(size)-byte index")
        }
        let bytes = try shard.read(offset: layout.indexAtEnd ? shard.size - size : 0, count: size)
        var index = ShardIndex(entries: [UInt64](repeating: 0, count: 2 * innerCount))
        try bytes.withUnsafeBytes { raw in
            try index.entries.withUnsafeMutableBytes { try layout.index.decode(raw, into: $0, elementSize: 8, path: shard.path + " (shard index)") }
        }
        for i in 0..<innerCount {
            let (offset, count) = (index.entries[2 * i], index.entries[2 * i + 1])
            if offset == absent && count == absent { continue }
            guard offset <= UInt64(shard.size), count <= UInt64(shard.size) - offset else {
                throw StorageError.corruptChunk(path: shard.path, reason: "index entry \(i) points to bytes \(offset)..<\(offset &+ count) beyond the shard's \(shard.size) bytes")
            }
        }
        return index
    }

    /// Lays out a shard file: the encoded inner chunks (nil = absent) and the index.
    static func assemble(_ chunks: [[UInt8]?], layout: ShardLayout) throws -> [UInt8] {
        let indexSize = encodedSize(innerCount: chunks.count, layout: layout)
        var entries = [UInt64](repeating: absent, count: 2 * chunks.count)
        var body = [UInt8]()
        body.reserveCapacity(chunks.reduce(0) { $0 + ($1?.count ?? 0) })
        let base = layout.indexAtEnd ? 0 : indexSize
        for (i, chunk) in chunks.enumerated() {
            guard let chunk else { continue }
            entries[2 * i] = UInt64(base + body.count)
            entries[2 * i + 1] = UInt64(chunk.count)
            body += chunk
        }
        let index = try entries.withUnsafeMutableBytes { try layout.index.encode($0, elementSize: 8) }
        return layout.indexAtEnd ? body + index : index + body
    }
}
