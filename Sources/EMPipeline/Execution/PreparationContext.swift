import EMProgress
import EMVolume
import Foundation

/// What `StageImplementation.prepare` gets: the stage's block layout, a private directory for
/// intermediate results (named after the stage's fingerprint, so a changed configuration
/// starts afresh) and a way to stream its inputs block by block.
public final class PreparationContext {
    /// The stage being prepared.
    public let stage: PipelineStage
    /// Fingerprint of the stage's configuration, inputs, model and block layout.
    public let fingerprint: String
    /// The block layout of the stage's part of the pipeline.
    public let grid: BlockGrid
    /// A directory for this stage and fingerprint (created on first use by the stage).
    public let directory: String
    /// Set in a sharded run: `stream` visits only this shard's blocks, and a stage that
    /// prepares across blocks does only its per-block part (the merge is left to the
    /// unsharded run that finalizes the pipeline).
    public let shard: BlockShard?

    private let runner: RunState
    private let graph: StageGraph

    init(stage: PipelineStage, fingerprint: String, grid: BlockGrid, directory: String, shard: BlockShard?, runner: RunState, graph: StageGraph) {
        self.stage = stage
        self.fingerprint = fingerprint
        self.grid = grid
        self.directory = directory
        self.shard = shard
        self.runner = runner
        self.graph = graph
    }

    /// Streams the volume of input `input` (a parameter name) over each block's write box to
    /// `body` (called from several threads at once), except the blocks in `skipping` and, in a
    /// sharded run, those of other shards. Failed
    /// blocks are retried; the pass is counted in the run summary under `pass`.
    ///
    /// - Throws: `PipelineError.execution` when any block failed after its retries.
    public func stream(_ input: String, pass: String, skipping: Set<Int> = [],
                       body: @escaping (Block, AnyVolume) throws -> Void) throws {
        guard let upstream = stage.inputs[input] else { preconditionFailure("stage '\(stage.name)' has no input '\(input)'") }
        let scope = shard?.blocks(of: grid.count) ?? 0..<grid.count
        let blocks = grid.blocks.filter { scope.contains($0.id) && !skipping.contains($0.id) }
        let summary = runner.beginPass(stage: stage.name, pass: pass, total: blocks.count, skipped: scope.count - blocks.count)
        let streamer = BlockStreamer(graph: graph, workers: runner.execution.workers, queueDepth: runner.execution.queueDepth,
                                     retries: runner.execution.retries)
        streamer.run(blocks: blocks, targets: [upstream], request: { [upstream: $0.writeBox] },
                     consume: { block, volumes in try body(block, volumes[upstream]!) },
                     finished: { summary.finish($0) })
        let failed = runner.endPass(summary)
        if failed > 0 {
            throw PipelineError.execution("stage '\(stage.name)': \(failed) block\(failed == 1 ? "" : "s") failed in pass '\(pass)'")
        }
    }

    /// Counts a pass that does not stream blocks (a merge over the whole volume) in the summary.
    public func record(pass: String, blocks: Int) {
        let summary = runner.beginPass(stage: stage.name, pass: pass, total: blocks, skipped: 0)
        summary.addDone(blocks)
        _ = runner.endPass(summary)
    }

    /// Counts a pass whose result an earlier run left (all its blocks skipped).
    public func recordSkipped(pass: String) {
        let summary = runner.beginPass(stage: stage.name, pass: pass, total: 0, skipped: grid.count)
        _ = runner.endPass(summary)
    }
}
