import EMStores
import Foundation

// Output sessions: claiming, resuming or invalidating each output, closing it, and writing
// its provenance.

extension PipelineRunner {
    // MARK: Output sessions


    struct SinkRun {
        let node: StageGraph.Node
        let sink: BlockSink
        let markers: DoneMarkers
        let fingerprint: String
        let finished: Set<Int>
        /// Held while the run writes the output (released when the run lets go of it).
        let lock: OutputLock
        var name: String { node.name }
    }


    /// Opens the outputs among `nodes`: resumes where markers of the same configuration exist.
    /// Each output's `finished` holds its blocks done among `scope` (a shard counts and skips
    /// only its own).
    ///
    /// An output is claimed first (`OutputLock`: a second run on it is refused while this one
    /// writes). When it is started afresh, everything that would call the old content done
    /// (its provenance's `complete`, the markers of other configurations) is invalidated before
    /// the old content is touched: a run killed in between leaves an output that the next run
    /// redoes, never one that it skips with wrong data.
    func openSinks(_ nodes: [StageGraph.Node], part: Part, plan: Plan, scope: Range<Int>, state: RunState) throws -> [SinkRun] {
        var sinks: [SinkRun] = []
        for node in nodes {
            guard let sink = node.implementation as? BlockSink else { continue }
            let lock = try OutputLock.acquire(file: sink.lockFile, label: "the output of stage '\(node.name)'", mode: options.shard == nil ? .exclusive : .shared)
            let fingerprint = plan.fingerprint(of: node, in: part)
            let root = sink.sidecarPath("done")
            var resumed: DoneMarkers?
            if let existing = DoneMarkers.existing(root: root, stage: node.name, fingerprint: fingerprint) {
                do {
                    try sink.open(resume: true, grid: part.grid)
                    resumed = existing
                } catch {
                    state.events.emit("restart", ["stage": node.name, "reason": "the interrupted output cannot be reopened: \(error)"])
                }
            }
            let markers: DoneMarkers
            if let resumed {
                markers = resumed
            } else {
                if FileManager.default.fileExists(atPath: sink.sidecarPath(Provenance.name)) {
                    try writeProvenance(node, sink: sink, fingerprint: fingerprint, graph: plan.graph, complete: false)
                }
                DoneMarkers.removeAll(in: root, stage: node.name)
                try sink.open(resume: false, grid: part.grid)
                markers = try DoneMarkers.start(root: root, stage: node.name, fingerprint: fingerprint)
            }
            try writeProvenance(node, sink: sink, fingerprint: fingerprint, graph: plan.graph, complete: false)
            sinks.append(SinkRun(node: node, sink: sink, markers: markers, fingerprint: fingerprint,
                                 finished: markers.finished().filter { scope.contains($0) }, lock: lock))
        }
        return sinks
    }

    func closeAll(_ sinks: [SinkRun], graph: StageGraph, failed: Bool, recorders: [RunState.PassRecorder] = []) throws {
        for (index, run) in sinks.enumerated() {
            try run.sink.close()
            // A shard's run never completes an output: the unsharded finalizing run does.
            let complete = options.shard == nil && (index < recorders.count ? recorders[index].summary.failed == 0 : !failed)
            try writeProvenance(run.node, sink: run.sink, fingerprint: run.fingerprint, graph: graph, complete: complete)
        }
    }

    func writeProvenance(_ node: StageGraph.Node, sink: BlockSink, fingerprint: String, graph: StageGraph, complete: Bool) throws {
        var hashes: [String: String] = [:]
        for other in graph.nodes { if let hash = other.implementation.contentHash { hashes[other.name] = hash } }
        try Provenance.write(pipeline: pipeline, stage: node.name, fingerprint: fingerprint, contentHashes: hashes,
                             version: options.version, complete: complete,
                             to: sink.sidecarPath(Provenance.name))
    }
}
