import Yams

/// A kind of stage: its schema, how it checks itself against its inputs, and how it runs.
///
/// To add a stage (predict, detect, evaluate, train), implement this protocol and list the
/// kind in `StageKinds.all`; validation, documentation and execution pick it up from there.
public protocol StageKind: Sendable {
    /// Name, parameters and documentation.
    var schema: StageSchema { get }

    /// Checks the stage's parameters against each other and against its inputs' volumes,
    /// recording problems in `check`, and returns the stage's output (nil when it has none
    /// because of a problem).
    func describe(_ check: inout StageCheck) -> VolumeDescriptor?

    /// Creates what runs the stage in one execution of a pipeline (a `StageStep` for stages
    /// that do not run in the `.blocks` phase).
    func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation

    /// When the stage runs in a pipeline execution. The default is `.blocks`.
    var phase: StagePhase { get }

    /// The stores, files or directories a validated stage writes (batch runs check that no two
    /// volumes write the same one). The default: its `.outputStore` parameters.
    func outputs(of stage: PipelineStage) -> [String]
}

extension StageKind {
    public var phase: StagePhase { .blocks }

    public func outputs(of stage: PipelineStage) -> [String] {
        schema.parameters.filter { $0.type == .outputStore }.compactMap { stage.store($0.name)?.description }
    }
}

/// When a stage runs, relative to the blocks streaming through a pipeline execution.
public enum StagePhase: Sendable {
    /// Once, as a whole, before any block streams (training a model that later stages use).
    case beforeBlocks
    /// Block by block (read, predict, write, detect, ...).
    case blocks
    /// Once, as a whole, after every block has been stored (evaluating a written prediction).
    case afterBlocks
}

/// A stage kind that reads its parameters itself from the stage's YAML mapping (the train
/// stage's nested training configuration), instead of from its schema's flat parameters.
protocol ConfiguredStageKind: StageKind {
    /// Reads the stage's mapping (variables substituted, without `kind:`) into parameter values.
    ///
    /// - Throws: `TrainingConfigurationReader.Problem` naming the line and key of a problem.
    func readConfiguration(_ mapping: Node, file: String) throws -> [String: ParameterValue]
}

/// What `StageKind.describe` sees and where it reports problems.
public struct StageCheck {
    /// The stage, parameters validated against the schema.
    public let stage: PipelineStage
    /// The outputs of the stage's input parameters, by parameter name.
    public let inputs: [String: VolumeDescriptor]
    /// The stages named by the stage's reference parameters (`ParameterType.isReference`),
    /// validated and described, by parameter name.
    public let references: [String: PipelineStage]
    /// The pipeline's execution settings (block layout).
    public let execution: ExecutionSettings
    /// Problems found so far in the whole pipeline.
    public internal(set) var diagnostics: DiagnosticCollector
    /// For an implicit reader: the consumer stage and parameter its problems are reported on.
    let reportedAs: (stage: String, parameter: String)?

    /// Records a problem with `parameter` (or with the stage as a whole when nil).
    public mutating func error(_ message: String, parameter: String? = nil) {
        if let reportedAs {
            diagnostics.error(message, at: stage.location(of: parameter ?? "input"), stage: reportedAs.stage, key: reportedAs.parameter)
        } else {
            diagnostics.error(message, at: parameter.map { stage.location(of: $0) } ?? stage.location, stage: stage.name, key: parameter)
        }
    }
}

/// The stage kinds emflow knows.
public enum StageKinds {
    /// Every stage kind, in the order of the pipeline reference.
    public static let all: [StageKind] = [ReadStage(), NormalizeStage(), ThresholdStage(), SmoothStage(), MaskStage(), ComponentsStage(), PredictStage(), WriteStage(), DetectStage(), EvaluateStage(), TrainStage()]

    /// The kind called `name`.
    public static func named(_ name: String) -> StageKind? { all.first { $0.schema.kind == name } }
}

extension StageSchema {
    /// The schema of every stage kind, for validation messages and the generated reference.
    public static var all: [StageSchema] { StageKinds.all.map(\.schema) }
}
