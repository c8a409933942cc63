import EMStorage
import EMVolume

extension Pipeline {
    /// Why several processes could not write this pipeline's outputs at the same time (empty
    /// when they can): every output must be a Zarr array, whose chunks are separate files
    /// written whole, and each of its chunks must lie inside one block (the chunk shape divides
    /// the block shape), so that no two processes ever write the same chunk.
    public var shardingProblems: [String] {
        var problems: [String] = []
        for stage in stages {
            guard let write = stage.parameters(of: WriteStage.self), let shape = stage.output?.shape else { continue }
            let address = write.output
            guard address.format == .zarr else {
                problems.append("stage '\(stage.name)': output \(address) is \(address.format.rawValue.uppercased()); a sharded run needs a Zarr output (one file per chunk), e.g. out.zarr/\(stage.name)")
                continue
            }
            let blockShape = execution.blockShape
            let chunks = WriteStage.chunkShape(write, blockShape: blockShape, shape: shape)
            if (0..<3).contains(where: { blockShape[$0] % chunks[$0] != 0 }) {
                problems.append("stage '\(stage.name)': chunks \(chunks) do not divide the block shape \(blockShape); shards would share chunks (leave chunks unset or make them divide block_shape)")
            }
        }
        for stage in stages where stage.kind.phase == .beforeBlocks {
            problems.append("stage '\(stage.name)' (\(stage.kind.name)) runs before the blocks and cannot be split into shards; run it first with `emflow run` (a pipeline of that stage alone) and give its result to this pipeline")
        }
        return problems
    }
}
