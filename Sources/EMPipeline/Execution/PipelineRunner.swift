import EMProgress
import EMStorage
import EMStores
import EMVolume
import Foundation

/// How a run reports and identifies itself.
public struct RunOptions {
    /// The emflow version recorded in provenance files.
    public var version: String
    /// Where JSON-lines events go.
    public var events: EventLog
    /// Where progress bars go.
    public var progress: ProgressReporter.Sink

    /// Creates options.
    public init(version: String, events: EventLog = .disabled, progress: ProgressReporter.Sink = .silent) {
        self.version = version
        self.events = events
        self.progress = progress
    }
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
        events.emit("run_start", ["pipeline": pipeline.name, "file": pipeline.file, "emflow_version": options.version,
                                  "stages": pipeline.stages.map(\.name)])
        let state = RunState(execution: pipeline.execution, events: events, progress: options.progress)
        var fingerprints: [String: String] = [:]
        let summary = try runPhases(state: state, fingerprints: &fingerprints)
        events.emit("run_end", ["succeeded": summary.succeeded, "summary": summary.jsonObject])
        return summary
    }

    /// Runs the steps before the blocks, the blockwise stages, then the steps after them; a
    /// phase does not start when an earlier one failed.
    private func runPhases(state: RunState, fingerprints: inout [String: String]) throws -> RunSummary {
        func stages(_ phase: StagePhase) -> [PipelineStage] { pipeline.stages.filter { StageKinds.named($0.kind)?.phase == phase } }
        for stage in stages(.beforeBlocks) {
            fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints)
            try runStep(stage, fingerprint: fingerprints[stage.name]!, state: state)
        }
        func succeeded() -> Bool { RunSummary(passes: state.passes).succeeded }
        func notAttempted(_ stage: PipelineStage, pass: String) {
            let recorder = state.beginPass(stage: stage.name, pass: pass, total: 0, skipped: 0)
            recorder.failStep("not attempted: an earlier stage failed")
            state.endPass(recorder)
        }
        let blockStages = stages(.blocks)
        if !succeeded() {
            for stage in blockStages where StageKinds.named(stage.kind)?.schema.isSink == true { notAttempted(stage, pass: "write") }
        } else if !blockStages.isEmpty {
            let graph = try buildGraph(blockStages)
            for node in graph.nodes {
                fingerprints[node.name] = fingerprint(of: node.stage, contentHash: node.implementation.contentHash, known: fingerprints)
            }
            let sinks = graph.nodes.filter { $0.implementation is BlockSink }
            if let first = sinks.first?.implementation as? BlockSink {
                let workRoot = pipeline.execution.workDirectory ?? first.sidecarPath("work")
                var handled = Set<String>()
                for sink in sinks where !handled.contains(sink.name) {
                    let component = graph.connectedComponent(of: sink.name)
                    handled.formUnion(component)
                    try runComponent(component, graph: graph, fingerprints: fingerprints, workRoot: workRoot, state: state)
                }
            }
        }
        for stage in stages(.afterBlocks) {
            guard succeeded() else {
                notAttempted(stage, pass: stage.kind)
                continue
            }
            fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints)
            try runStep(stage, fingerprint: fingerprints[stage.name]!, state: state)
        }
        return RunSummary(passes: state.passes)
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

    /// A fingerprint of everything a stage's output depends on: kind, parameters, the
    /// fingerprints of its inputs and references (`known`), its model's hash and its output's
    /// shape and type.
    private func fingerprint(of stage: PipelineStage, contentHash: String?, known: [String: String]) -> String {
        var text = "emflow-stage-1|kind=\(stage.kind)"
        for (key, value) in stage.values.sorted(by: { $0.key < $1.key }) where stage.dependencies[key] == nil {
            text += "|\(key)=\(value)"
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
        var name: String { node.name }
    }

    private func runComponent(_ component: Set<String>, graph: StageGraph, fingerprints: [String: String],
                              workRoot: String, state: RunState) throws {
        let nodes = graph.nodes.filter { component.contains($0.name) }
        guard let shape = nodes.compactMap(\.stage.output).first?.shape else { return }
        let execution = pipeline.execution
        let grid = try BlockGrid(region: Box(shape: shape), blockShape: execution.blockShape, fit: execution.edgeFit)
        let layout = "layout|\(grid.region)|\(grid.blockShape)|\(grid.fit.rawValue)"

        // Open every output: resume where markers of the same configuration exist.
        var sinks: [SinkRun] = []
        for node in nodes {
            guard let sink = node.implementation as? BlockSink else { continue }
            let fingerprint = Fingerprint.of(fingerprints[node.name]! + "|" + layout)
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
                try sink.open(resume: false)
                markers = try DoneMarkers.start(root: root, stage: node.name, fingerprint: fingerprint)
            }
            try writeProvenance(node, sink: sink, fingerprint: fingerprint, graph: graph, complete: false)
            sinks.append(SinkRun(node: node, sink: sink, markers: markers, fingerprint: fingerprint,
                                 finished: markers.finished().intersection(0..<grid.count)))
        }
        let pending = grid.blocks.filter { block in sinks.contains { !$0.finished.contains(block.id) } }

        // Whole-volume preparations, inputs first, only when some block is left to do.
        if !pending.isEmpty {
            for node in nodes {
                let fingerprint = Fingerprint.of(fingerprints[node.name]! + "|" + layout)
                let directory = workRoot + "/" + node.name + "-" + fingerprint
                DoneMarkers.removeOthers(in: workRoot, stage: node.name, keeping: fingerprint)
                let context = PreparationContext(stage: node.stage, fingerprint: fingerprint, grid: grid, directory: directory,
                                                 runner: state, graph: graph)
                do {
                    try node.implementation.prepare(context)
                } catch {
                    let reason = "not attempted: stage '\(node.name)' could not be prepared: \(error)"
                    for run in sinks { recordBlocked(run, blocks: pending, reason: reason, state: state) }
                    try closeAll(sinks, graph: graph, failed: true)
                    return
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
    }

    private func recordBlocked(_ run: SinkRun, blocks: [Block], reason: String, state: RunState) {
        let recorder = state.beginPass(stage: run.name, pass: "write", total: 0, skipped: run.finished.count)
        for block in blocks where !run.finished.contains(block.id) { recorder.fail(block, reason, attempts: 0, seconds: 0) }
        state.endPass(recorder)
    }

    private func closeAll(_ sinks: [SinkRun], graph: StageGraph, failed: Bool, recorders: [RunState.PassRecorder] = []) throws {
        for (index, run) in sinks.enumerated() {
            try run.sink.close()
            let complete = index < recorders.count ? recorders[index].summary.failed == 0 : !failed
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
