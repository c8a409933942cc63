/// One of `count` shards of a block list: the deterministic partition that lets several
/// processes (cluster array tasks) share a run. Shard `index` takes the contiguous run of
/// block ids `index * n / count ..< (index + 1) * n / count` of a grid of `n` blocks, so every
/// block belongs to exactly one shard and neighbouring blocks mostly to the same one.
public struct BlockShard: Hashable, Sendable, CustomStringConvertible {
    /// This shard's number, 0 ..< count.
    public let index: Int
    /// How many shards share the blocks.
    public let count: Int

    /// Creates shard `index` of `count`.
    ///
    /// - Throws: `PipelineError.execution` when `count` < 1 or `index` is outside 0 ..< count.
    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw PipelineError.execution("shard \(index)/\(count): the shard number must be in 0..<\(max(count, 1)) and the count at least 1")
        }
        self.index = index
        self.count = count
    }

    /// Parses `INDEX/COUNT` (e.g. `2/4`, as `--shard $SLURM_ARRAY_TASK_ID/4` gives).
    ///
    /// - Throws: `PipelineError.execution` naming the text and the expected form.
    public static func parse(_ text: String) throws -> BlockShard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw PipelineError.execution("shard '\(text)': expected INDEX/COUNT, e.g. 0/4")
        }
        return try BlockShard(index: index, count: count)
    }

    /// The ids of this shard's blocks in a grid of `total` blocks.
    public func blocks(of total: Int) -> Range<Int> {
        (index * total / count)..<((index + 1) * total / count)
    }

    public var description: String { "\(index)/\(count)" }
}
