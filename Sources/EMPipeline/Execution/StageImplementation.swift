import EMStorage
import EMVolume

/// What runs one stage during one execution of a pipeline.
///
/// Every stage kind makes one of two refinements: a `BlockTransform` (computes its output
/// block by block) or a `BlockSink` (stores its inputs block by block).
public protocol StageImplementation: AnyObject {
    /// The box of input `input` (a parameter name) needed to produce `box`: `box` grown by the
    /// stage's halo (context). The default needs no context.
    func inputBox(for box: Box, input: String) -> Box

    /// Work over the whole volume before blocks stream through the stage (statistics,
    /// labelling passes); it may stream its inputs with `context.stream`. The default does
    /// nothing.
    func prepare(_ context: PreparationContext) throws

    /// False when, after `prepare`, the stage computes blocks without its inputs (it
    /// materialised what it needs); the executor then does not stream them.
    var streamsInputs: Bool { get }

    /// A hash of external content the output depends on (a model's weights), nil when none.
    /// It is part of the stage's fingerprint, so new weights never reuse old blocks.
    var contentHash: String? { get }

    /// True when `prepare` combines what every block gave into shared intermediate files (a
    /// merge across blocks) that only a single process can make. In a sharded run such a stage
    /// is prepared with `context.shard` set and does only its shard's per-block part; the
    /// outputs that depend on it are left to the unsharded run that finalizes the pipeline. The
    /// default is false (no preparation, or one every process can repeat with the same result).
    var preparesAcrossBlocks: Bool { get }
}

extension StageImplementation {
    public func inputBox(for box: Box, input: String) -> Box { box }
    public func prepare(_ context: PreparationContext) throws {}
    public var streamsInputs: Bool { true }
    public var contentHash: String? { nil }
    public var preparesAcrossBlocks: Bool { false }
}

/// A stage that computes its output block by block.
public protocol BlockTransform: StageImplementation {
    /// Computes the output over `box` from each input over `inputBox(for: box, input:)`.
    /// Called from several threads at once.
    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume
}

/// A stage that stores its inputs, block by block, in a volume store.
public protocol BlockSink: StageImplementation {
    /// The path of the file or directory `name` kept beside the stage's output (done markers,
    /// provenance, the default work directory), e.g. `Stores.sidecarPath(for:name:)` of its store.
    func sidecarPath(_ name: String) -> String

    /// The file whose lock (`OutputLock`) claims the output while a run writes it; kept
    /// where replacing the output does not remove it.
    var lockFile: String { get }

    /// Creates the output (`resume` false) or opens the output an interrupted run of the same
    /// configuration left (`resume` true); `grid` is the block layout the run stores.
    func open(resume: Bool, grid: BlockGrid) throws

    /// Stores one block; `inputs` cover `inputBox(for: block.writeBox, input:)`. Called from
    /// several threads at once, for distinct blocks.
    func store(_ block: Block, inputs: [String: AnyVolume]) throws

    /// Makes every stored block durable.
    func close() throws
}

extension BlockSink {
    public var lockFile: String { sidecarPath("lock") }
}

/// What a stage kind gets to build its implementation.
public struct StageContext {
    /// The whole validated pipeline.
    public let pipeline: Pipeline
    /// The stage's input volumes, by parameter name.
    public let inputs: [String: VolumeDescriptor]

    /// The execution settings.
    public var execution: ExecutionSettings { pipeline.execution }
}
