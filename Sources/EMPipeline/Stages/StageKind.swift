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

    /// Creates what runs the stage in one execution of a pipeline.
    func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation
}

/// What `StageKind.describe` sees and where it reports problems.
public struct StageCheck {
    /// The stage, parameters validated against the schema.
    public let stage: PipelineStage
    /// The outputs of the stage's input parameters, by parameter name.
    public let inputs: [String: VolumeDescriptor]
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
    public static let all: [StageKind] = [ReadStage(), NormalizeStage(), ThresholdStage(), MaskStage(), ComponentsStage(), PredictStage(), WriteStage(), DetectStage()]

    /// The kind called `name`.
    public static func named(_ name: String) -> StageKind? { all.first { $0.schema.kind == name } }
}

extension StageSchema {
    /// The schema of every stage kind, for validation messages and the generated reference.
    public static var all: [StageSchema] { StageKinds.all.map(\.schema) }
}
