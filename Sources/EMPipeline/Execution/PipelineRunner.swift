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
    let pipeline: Pipeline
    let options: RunOptions

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
    func runPhases(state: RunState) throws -> RunSummary {
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
            for stage in stages(.blocks) where stage.kind.schema.isSink { notAttempted(stage, pass: "write") }
        } else if let plan = try makePlan(known: fingerprints) {
            for part in plan.parts { try runPart(part, plan: plan, state: state) }
            fingerprints.merge(plan.fingerprints) { $1 }
        }
        for stage in stages(.afterBlocks) where options.shard == nil {
            guard succeeded() else {
                notAttempted(stage, pass: stage.kind.name)
                continue
            }
            fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints)
            try runStep(stage, fingerprint: fingerprints[stage.name]!, state: state)
        }
        return RunSummary(passes: state.passes)
    }

    /// The pipeline's stages of `phase`, in definition order.
    func stages(_ phase: StagePhase) -> [PipelineStage] {
        pipeline.stages.filter { $0.kind.phase == phase }
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
}
