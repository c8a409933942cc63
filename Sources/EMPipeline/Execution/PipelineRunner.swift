import EMProgress
import EMStorage
import EMStores
import EMVolume
import Foundation

/// How a run reports and identifies itself, and which blocks it takes.
public struct RunOptions {
    /// The emflow version recorded in provenance files.
    public var version: String
    /// Where JSON-lines events go.
    public var events: EventLog
    /// Where progress bars go.
    public var progress: ProgressReporter.Sink
    /// When set, the run takes only this shard's blocks (one task of a cluster array); parts of
    /// the pipeline with a stage that prepares across blocks are left to an unsharded run.
    public var shard: BlockShard?

    /// Creates options.
    public init(version: String, events: EventLog = .disabled, progress: ProgressReporter.Sink = .silent, shard: BlockShard? = nil) {
        self.version = version
        self.events = events
        self.progress = progress
        self.shard = shard
    }
}

/// The blocks done of one output of a pipeline, as its done markers show them.
public struct OutputProgress: Sendable {
    /// The stage that writes the output.
    public var stage: String
    /// The number of blocks in its layout.
    public var blocks: Int
    /// Ids of the blocks marked done under the current configuration.
    public var done: Set<Int>
}

/// Runs a validated pipeline: prepares stages that need whole-volume passes, then streams the
/// blocks of each connected part of the pipeline through its stages into its outputs,
/// skipping blocks that done markers show finished.
public final class PipelineRunner {
    private let pipeline: Pipeline
    private let options: RunOptions

    /// Creates a runner for `pipeline`.
    public init(pipeline: Pipeline, options: RunOptions) {
        self.pipeline = pipeline
        self.options = options
    }

    /// Runs the pipeline and returns the summary (done / skipped / failed per stage pass).
    /// Failed blocks do not throw: they are in the summary (`succeeded` is false).
    ///
    /// - Throws: when a stage cannot be set up (an input vanished, an output cannot be created).
    public func run() throws -> RunSummary {
        let events = options.events
        var start: [String: Any] = ["pipeline": pipeline.name, "file": pipeline.file, "emflow_version": options.version,
                                    "stages": pipeline.stages.map(\.name)]
        if let shard = options.shard { start["shard"] = shard.description }
        events.emit("run_start", start)
        let state = RunState(execution: pipeline.execution, events: events, progress: options.progress)
        let summary = try runPhases(state: state)
        events.emit("run_end", ["succeeded": summary.succeeded, "summary": summary.jsonObject])
        return summary
    }

    /// Runs the steps before the blocks, the blockwise stages, then the steps after them; a
    /// phase does not start when an earlier one failed. A sharded run does only its blocks: the
    /// steps belong to the unsharded runs around it (`Pipeline.shardingProblems` refuses steps
    /// before the blocks; the finalizing run does those after them).
    private func runPhases(state: RunState) throws -> RunSummary {
        var fingerprints: [String: String] = [:]
        for stage in stages(.beforeBlocks) where options.shard == nil {
            fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints)
            try runStep(stage, fingerprint: fingerprints[stage.name]!, state: state)
        }
        func succeeded() -> Bool { RunSummary(passes: state.passes).succeeded }
        func notAttempted(_ stage: PipelineStage, pass: String) {
            let recorder = state.beginPass(stage: stage.name, pass: pass, total: 0, skipped: 0)
            recorder.failStep("not attempted: an earlier stage failed")
            state.endPass(recorder)
        }
        if !succeeded() {
            for stage in stages(.blocks) where StageKinds.named(stage.kind)?.schema.isSink == true { notAttempted(stage, pass: "write") }
        } else if let plan = try makePlan(known: fingerprints) {
            for part in plan.parts { try runPart(part, plan: plan, state: state) }
            fingerprints.merge(plan.fingerprints) { $1 }
        }
        for stage in stages(.afterBlocks) where options.shard == nil {
            guard succeeded() else {
                notAttempted(stage, pass: stage.kind)
                continue
            }
            fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints)
            try runStep(stage, fingerprint: fingerprints[stage.name]!, state: state)
        }
        return RunSummary(passes: state.passes)
    }

    /// The pipeline's stages of `phase`, in definition order.
    private func stages(_ phase: StagePhase) -> [PipelineStage] {
        pipeline.stages.filter { StageKinds.named($0.kind)?.phase == phase }
    }

    /// The fingerprints of the steps before the blocks, as a run would compute them.
    private func stepFingerprints() -> [String: String] {
        var fingerprints: [String: String] = [:]
        for stage in stages(.beforeBlocks) { fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints) }
        return fingerprints
    }

    /// Creates every output (or reopens the one an interrupted run of the same configuration
    /// left) with its done markers, and processes no block: what a cluster submission does once
    /// before many sharded runs write into the outputs at the same time.
    ///
    /// - Throws: when an output cannot be created.
    public func setUp() throws {
        guard let plan = try makePlan(known: stepFingerprints()) else { return }
        let state = RunState(execution: pipeline.execution, events: options.events, progress: .silent)
        for part in plan.parts {
            try closeAll(try openSinks(part.nodes, part: part, plan: plan, scope: 0..<part.grid.count, state: state), graph: plan.graph, failed: true)
        }
    }

    /// The blocks done of every output under the current configuration (nothing is written).
    ///
    /// - Throws: when a stage cannot be built (a model cannot be read).
    public func progress() throws -> [OutputProgress] {
        guard let plan = try makePlan(known: stepFingerprints()) else { return [] }
        var result: [OutputProgress] = []
        for part in plan.parts {
            for node in part.nodes {
                guard let sink = node.implementation as? BlockSink else { continue }
                let root = sink.sidecarPath("done")
                let done = DoneMarkers.existing(root: root, stage: node.name, fingerprint: plan.fingerprint(of: node, in: part))?.finished()
                result.append(OutputProgress(stage: node.name, blocks: part.grid.count, done: (done ?? []).intersection(0..<part.grid.count)))
            }
        }
        return result
    }

    // MARK: Plan

    /// The stages, their fingerprints and the parts of the pipeline with their block layouts.
    private struct Plan {
        let graph: StageGraph
        let fingerprints: [String: String]
        let workRoot: String
        let parts: [Part]

        /// The fingerprint of `node`'s configuration in `part`'s block layout.
        func fingerprint(of node: StageGraph.Node, in part: Part) -> String {
            Fingerprint.of(fingerprints[node.name]! + "|" + part.layout)
        }
    }

    /// A connected part of the pipeline: its stages and their common block layout.
    private struct Part {
        let nodes: [StageGraph.Node]
        let grid: BlockGrid
        var layout: String { "layout|\(grid.region)|\(grid.blockShape)|\(grid.fit.rawValue)" }
    }

    /// The plan of the blockwise stages (nil when there are none), their fingerprints built on
    /// those of the steps before them (`known`).
    private func makePlan(known: [String: String]) throws -> Plan? {
        let blockStages = stages(.blocks)
        guard !blockStages.isEmpty else { return nil }
        let graph = try buildGraph(blockStages)
        var fingerprints = known
        for node in graph.nodes {
            fingerprints[node.name] = fingerprint(of: node.stage, contentHash: node.implementation.contentHash, known: fingerprints)
        }
        let sinks = graph.nodes.filter { $0.implementation is BlockSink }
        guard let first = sinks.first?.implementation as? BlockSink else { return nil }
        let workRoot = pipeline.execution.workDirectory ?? first.sidecarPath("work")
        var parts: [Part] = []
        var handled = Set<String>()
        for sink in sinks where !handled.contains(sink.name) {
            let component = graph.connectedComponent(of: sink.name)
            handled.formUnion(component)
            let nodes = graph.nodes.filter { component.contains($0.name) }
            guard let shape = nodes.compactMap(\.stage.output).first?.shape else { continue }
            let execution = pipeline.execution
            parts.append(Part(nodes: nodes, grid: try BlockGrid(region: Box(shape: shape), blockShape: execution.blockShape, fit: execution.edgeFit)))
        }
        return Plan(graph: graph, fingerprints: fingerprints, workRoot: workRoot, parts: parts)
    }

    // MARK: Set-up

    private func buildGraph(_ stages: [PipelineStage]) throws -> StageGraph {
        var nodes: [StageGraph.Node] = []
        for stage in stages {
            guard let kind = StageKinds.named(stage.kind) else { preconditionFailure("stage kind '\(stage.kind)' was validated") }
            var inputs: [String: VolumeDescriptor] = [:]
            for (parameter, upstream) in stage.inputs { inputs[parameter] = pipeline.stage(upstream)?.output }
            let implementation = try kind.makeImplementation(for: stage, in: StageContext(pipeline: pipeline, inputs: inputs))
            nodes.append(StageGraph.Node(stage: stage, implementation: implementation))
        }
        return StageGraph(nodes: nodes)
    }

    /// A fingerprint of everything a stage's output depends on: kind, parameters, the state of
    /// the stored volumes it reads (`Stores.contentState`), the fingerprints of its inputs and
    /// references (`known`), its model's hash and its output's shape and type.
    private func fingerprint(of stage: PipelineStage, contentHash: String?, known: [String: String]) -> String {
        var text = "emflow-stage-1|kind=\(stage.kind)"
        let outputs = Set(StageKinds.named(stage.kind)?.schema.parameters.filter { $0.type == .outputStore }.map(\.name) ?? [])
        for (key, value) in stage.values.sorted(by: { $0.key < $1.key }) where stage.dependencies[key] == nil {
            text += "|\(key)=\(value)"
            // A stored input rewritten at the same address (another seed) is another input.
            if case let .store(address) = value, !outputs.contains(key) { text += "|\(key)#state=\(Stores.contentState(of: address))" }
        }
        for (key, upstream) in stage.inputs.sorted(by: { $0.key < $1.key }) { text += "|\(key)<\(known[upstream]!)" }
        for (key, referenced) in stage.references.sorted(by: { $0.key < $1.key }) { text += "|\(key)@\(known[referenced] ?? referenced)" }
        if let contentHash { text += "|content=\(contentHash)" }
        if let output = stage.output { text += "|output=\(output.shape) \(output.dataType) \(output.voxelSize) \(output.origin)" }
        return Fingerprint.of(text)
    }

    // MARK: Steps (whole-volume stages before and after the blocks)

    private struct StepMarker: Codable {
        var fingerprint: String
        var complete: Bool
    }

    /// Runs a step unless its marker shows the same configuration finished; records it as a
    /// one-block pass named after its kind.
    private func runStep(_ stage: PipelineStage, fingerprint: String, state: RunState) throws {
        guard let kind = StageKinds.named(stage.kind) else { preconditionFailure("stage kind '\(stage.kind)' was validated") }
        let made = try kind.makeImplementation(for: stage, in: StageContext(pipeline: pipeline, inputs: [:]))
        guard let step = made as? StageStep else { preconditionFailure("stage kind '\(stage.kind)' runs outside the blocks but is no StageStep") }
        // What the step reads (a training's data) belongs to its configuration too.
        let fingerprint = step.contentHash.map { Fingerprint.of(fingerprint + "|content=" + $0) } ?? fingerprint
        let markerPath = step.outputDirectory + "/.emflow-step-" + stage.name + ".json"
        let marker = FileManager.default.contents(atPath: markerPath).flatMap { try? JSONDecoder().decode(StepMarker.self, from: $0) }
        let sameConfiguration = step.reusesFinishedResult && marker?.fingerprint == fingerprint
        if sameConfiguration && marker?.complete == true {
            state.endPass(state.beginPass(stage: stage.name, pass: stage.kind, total: 0, skipped: 1))
            return
        }
        let recorder = state.beginPass(stage: stage.name, pass: stage.kind, total: 1, skipped: 0)
        let provenance = step.outputDirectory + "/.emflow-" + Provenance.name
        do {
            try AtomicFile.write(try JSONEncoder().encode(StepMarker(fingerprint: fingerprint, complete: false)), to: markerPath)
            try step.run(resume: sameConfiguration)
            try AtomicFile.write(try JSONEncoder().encode(StepMarker(fingerprint: fingerprint, complete: true)), to: markerPath)
            try Provenance.write(pipeline: pipeline, stage: stage.name, fingerprint: fingerprint, contentHashes: [:],
                                 version: options.version, complete: true, to: provenance)
            recorder.addDone(1)
        } catch {
            recorder.failStep("\(error)")
        }
        state.endPass(recorder)
    }

    // MARK: One connected part of the pipeline

    private struct SinkRun {
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
    private func openSinks(_ nodes: [StageGraph.Node], part: Part, plan: Plan, scope: Range<Int>, state: RunState) throws -> [SinkRun] {
        var sinks: [SinkRun] = []
        for node in nodes {
            guard let sink = node.implementation as? BlockSink else { continue }
            let lock = try OutputLock.acquire(file: sink.lockFile, label: "the output of stage '\(node.name)'", mode: options.shard == nil ? .exclusive : .shared)
            let fingerprint = plan.fingerprint(of: node, in: part)
            let root = sink.sidecarPath("done")
            var resumed: DoneMarkers?
            if let existing = DoneMarkers.existing(root: root, stage: node.name, fingerprint: fingerprint) {
                do {
                    try sink.open(resume: true)
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
                try sink.open(resume: false)
                markers = try DoneMarkers.start(root: root, stage: node.name, fingerprint: fingerprint)
            }
            try writeProvenance(node, sink: sink, fingerprint: fingerprint, graph: plan.graph, complete: false)
            sinks.append(SinkRun(node: node, sink: sink, markers: markers, fingerprint: fingerprint,
                                 finished: markers.finished().filter { scope.contains($0) }, lock: lock))
        }
        return sinks
    }

    private func runPart(_ part: Part, plan: Plan, state: RunState) throws {
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
    private func prepare(_ node: StageGraph.Node, part: Part, plan: Plan, state: RunState) throws {
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
    private func writeOutputs(_ nodes: [StageGraph.Node], part: Part, plan: Plan, state: RunState) throws -> Set<String> {
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

    private func recordBlocked(_ run: SinkRun, blocks: [Block], reason: String, state: RunState) {
        let recorder = state.beginPass(stage: run.name, pass: "write", total: 0, skipped: run.finished.count)
        for block in blocks where !run.finished.contains(block.id) { recorder.fail(block, reason, attempts: 0, seconds: 0) }
        state.endPass(recorder)
    }

    private func closeAll(_ sinks: [SinkRun], graph: StageGraph, failed: Bool, recorders: [RunState.PassRecorder] = []) throws {
        for (index, run) in sinks.enumerated() {
            try run.sink.close()
            // A shard's run never completes an output: the unsharded finalizing run does.
            let complete = options.shard == nil && (index < recorders.count ? recorders[index].summary.failed == 0 : !failed)
            try writeProvenance(run.node, sink: run.sink, fingerprint: run.fingerprint, graph: graph, complete: complete)
        }
    }

    private func writeProvenance(_ node: StageGraph.Node, sink: BlockSink, fingerprint: String, graph: StageGraph, complete: Bool) throws {
        var hashes: [String: String] = [:]
        for other in graph.nodes { if let hash = other.implementation.contentHash { hashes[other.name] = hash } }
        try Provenance.write(pipeline: pipeline, stage: node.name, fingerprint: fingerprint, contentHashes: hashes,
                             version: options.version, complete: complete,
                             to: sink.sidecarPath(Provenance.name))
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
