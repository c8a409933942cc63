import EMVolume
import Foundation

// One connected part of the pipeline: preparation passes, then its blocks streamed through
// the stages into the outputs, with failures recorded per block.

extension PipelineRunner {
    func runPart(_ part: Part, plan: Plan, state: RunState) throws {
        guard let shard = options.shard else {
            try writeOutputs(part.nodes, part: part, plan: plan, state: state)
            return
        }
        // A shard leaves the outputs that depend on a merge across blocks to the finalizing
        // run. It writes its blocks of the others first, then does its part of each merge's
        // per-block work, so that a failure there does not hold its outputs back.
        let graph = plan.graph
        let merging = Set(part.nodes.filter { $0.implementation.preparesAcrossBlocks }.map(\.name))
        let deferred = part.nodes.filter { $0.implementation is BlockSink && !graph.upstream(of: [$0.name]).isDisjoint(with: merging) }
        let written = part.nodes.filter { node in !deferred.contains { $0.name == node.name } }
        var prepared = try writeOutputs(written, part: part, plan: plan, state: state)
        guard !deferred.isEmpty else { return }
        state.events.emit("deferred", ["stages": deferred.map(\.name), "shard": shard.description,
                                       "reason": "they depend on a merge across blocks: left to the finalizing run"])
        let needed = graph.upstream(of: merging)
        for node in part.nodes where needed.contains(node.name) && !prepared.contains(node.name) {
            do {
                try prepare(node, part: part, plan: plan, state: state)
                prepared.insert(node.name)
            } catch {
                // Failed blocks of a streamed pass are in the summary already; anything else
                // fails the shard's blocks of the stage.
                guard !state.passes.contains(where: { $0.stage == node.name && $0.failed > 0 }) else { return }
                let recorder = state.beginPass(stage: node.name, pass: "prepare", total: 0, skipped: 0)
                for block in part.grid.blocks where shard.blocks(of: part.grid.count).contains(block.id) {
                    recorder.fail(block, "not prepared: \(error)", attempts: 1, seconds: 0)
                }
                state.endPass(recorder)
                return
            }
        }
    }

    /// Runs `node`'s whole-volume preparation (its shard's part of it in a sharded run).
    func prepare(_ node: StageGraph.Node, part: Part, plan: Plan, state: RunState) throws {
        let fingerprint = plan.fingerprint(of: node, in: part)
        DoneMarkers.removeOthers(in: plan.workRoot, stage: node.name, keeping: fingerprint)
        let context = PreparationContext(stage: node.stage, fingerprint: fingerprint, grid: part.grid,
                                         directory: plan.workRoot + "/" + node.name + "-" + fingerprint,
                                         shard: options.shard, runner: state, graph: plan.graph)
        try node.implementation.prepare(context)
    }

    /// Writes the blocks (of the run's shard) that the outputs among `nodes` still need, after
    /// preparing the stages among `nodes` they read from; returns the names of the stages prepared.
    @discardableResult
    func writeOutputs(_ nodes: [StageGraph.Node], part: Part, plan: Plan, state: RunState) throws -> Set<String> {
        let (grid, graph) = (part.grid, plan.graph)
        let execution = pipeline.execution
        let scope = options.shard?.blocks(of: grid.count) ?? 0..<grid.count
        let sinks = try openSinks(nodes, part: part, plan: plan, scope: scope, state: state)
        let pending = grid.blocks.filter { scope.contains($0.id) }.filter { block in sinks.contains { !$0.finished.contains(block.id) } }

        // Whole-volume preparations, inputs first, only when some block is left to do.
        var prepared = Set<String>()
        if !pending.isEmpty {
            let needed = graph.upstream(of: Set(sinks.map(\.name)))
            for node in nodes where needed.contains(node.name) {
                do {
                    try prepare(node, part: part, plan: plan, state: state)
                    prepared.insert(node.name)
                } catch {
                    let reason = "not attempted: stage '\(node.name)' could not be prepared: \(error)"
                    for run in sinks { recordBlocked(run, blocks: pending, reason: reason, state: state) }
                    try closeAll(sinks, graph: graph, failed: true)
                    return prepared
                }
            }
        }

        // Stream the blocks into every output that still needs them.
        let recorders = sinks.map { run in
            state.beginPass(stage: run.name, pass: "write", total: pending.filter { !run.finished.contains($0.id) }.count, skipped: run.finished.count)
        }
        let stored = sinks.map { _ in LockedSet() }
        var targets = Set<String>()
        for run in sinks { targets.formUnion(run.node.stage.inputs.values) }
        let streamer = BlockStreamer(graph: graph, workers: execution.workers, queueDepth: execution.queueDepth, retries: execution.retries)
        streamer.run(blocks: pending, targets: targets, request: { block in
            var boxes: [String: Box] = [:]
            for run in sinks where !run.finished.contains(block.id) {
                for (parameter, upstream) in run.node.stage.inputs {
                    let box = run.sink.inputBox(for: block.writeBox, input: parameter)
                    boxes[upstream] = boxes[upstream].map { $0.union(box) } ?? box
                }
            }
            return boxes
        }, consume: { block, volumes in
            for (index, run) in sinks.enumerated() where !run.finished.contains(block.id) && !stored[index].contains(block.id) {
                var inputs: [String: AnyVolume] = [:]
                for (parameter, upstream) in run.node.stage.inputs {
                    inputs[parameter] = volumes[upstream]!.cropped(to: run.sink.inputBox(for: block.writeBox, input: parameter))
                }
                try run.sink.store(block, inputs: inputs)
                try run.markers.markDone(block)
                stored[index].insert(block.id)
            }
        }, finished: { outcome in
            for (index, run) in sinks.enumerated() where !run.finished.contains(outcome.block.id) {
                if stored[index].contains(outcome.block.id) {
                    let voxels = outcome.block.writeBox.intersection(grid.region)?.voxelCount ?? 0
                    recorders[index].succeed(outcome.block, attempts: outcome.attempts, seconds: outcome.seconds,
                                             bytes: voxels * (run.node.stage.output?.dataType.size ?? 0))
                } else {
                    recorders[index].fail(outcome.block, outcome.failure ?? "not stored", attempts: outcome.attempts, seconds: outcome.seconds)
                }
            }
        })
        var anyFailed = false
        for recorder in recorders { anyFailed = state.endPass(recorder) > 0 || anyFailed }
        try closeAll(sinks, graph: graph, failed: anyFailed, recorders: recorders)
        return prepared
    }

    func recordBlocked(_ run: SinkRun, blocks: [Block], reason: String, state: RunState) {
        let recorder = state.beginPass(stage: run.name, pass: "write", total: 0, skipped: run.finished.count)
        for block in blocks where !run.finished.contains(block.id) { recorder.fail(block, reason, attempts: 0, seconds: 0) }
        state.endPass(recorder)
    }
}

/// A set of block ids shared by threads.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<Int>()

    func insert(_ id: Int) {
        lock.lock()
        ids.insert(id)
        lock.unlock()
    }

    func contains(_ id: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return ids.contains(id)
    }
}
