/// A kind of stage: its parameters, how it checks itself against its inputs, and how it runs.
///
/// To add a stage, write one file with a type conforming to this protocol (its `Parameter`
/// declarations, its `Parameters` and what it runs) and list it in `StageKinds.all`:
/// validation, `emflow stages`, the README reference, the did-you-mean hints and execution
/// pick it up from there.
public protocol StageKind: Sendable {
    /// The stage's parameters, decoded and typed.
    associatedtype Parameters: Sendable

    /// Name, parameters and documentation.
    var schema: StageSchema { get }

    /// The typed parameters of a stage whose values passed the schema (or, for a kind that
    /// `readsMapping`, of the stage's YAML mapping).
    ///
    /// - Throws: only a kind that reads its mapping: `TrainingConfigurationReader.Problem`
    ///   naming the line and key of a problem.
    func parameters(_ values: StageValues) throws -> Parameters

    /// Checks the parameters against each other and against the stage's inputs' volumes,
    /// recording problems in `check`, and returns the stage's output (nil when it has none
    /// because of a problem).
    func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor?

    /// Creates what runs the stage in one execution of a pipeline (a `StageStep` for stages
    /// that do not run in the `.blocks` phase).
    func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation

    /// When the stage runs in a pipeline execution. The default is `.blocks`.
    var phase: StagePhase { get }

    /// True when the kind reads the stage's YAML mapping itself (`StageValues.mapping`, the
    /// train stage's nested configuration) instead of flat parameters checked against its
    /// schema. The default is false.
    var readsMapping: Bool { get }

    /// Files or directories the stage writes besides its `.outputStore` parameters (batch runs
    /// check that no two volumes write the same one). The default: none.
    func writtenFiles(_ parameters: Parameters) -> [String]

    /// The values provenance files and fingerprints record for the stage. The default: the
    /// validated values.
    func recordedValues(_ parameters: Parameters, validated: [String: ParameterValue]) -> [String: ParameterValue]

    /// Notes on stage `stage`'s definition that do not stop it (deprecated spellings). The
    /// default: none.
    func warnings(_ parameters: Parameters, stage: String) -> [PipelineDiagnostic]
}

extension StageKind {
    public var phase: StagePhase { .blocks }
    public var readsMapping: Bool { false }
    public func writtenFiles(_ parameters: Parameters) -> [String] { [] }
    public func recordedValues(_ parameters: Parameters, validated: [String: ParameterValue]) -> [String: ParameterValue] { validated }
    public func warnings(_ parameters: Parameters, stage: String) -> [PipelineDiagnostic] { [] }

    /// The kind's name (`kind:` in a pipeline file).
    public var name: String { schema.kind }

    /// The kind with a stage's parameters decoded from `values`.
    func configured(_ values: StageValues) throws -> (stage: any ConfiguredStage, recorded: [String: ParameterValue]) {
        let parameters = try parameters(values)
        return (Configured(kind: self, parameters: parameters), recordedValues(parameters, validated: values.values))
    }
}

/// A stage kind with one stage's decoded parameters: what validation and execution call, so
/// that no caller looks a kind up by name or reads a parameter by its key.
public protocol ConfiguredStage: Sendable {
    /// The kind.
    var stageKind: any StageKind { get }
    /// `StageKind.describe` with the stage's parameters.
    func describe(_ check: inout StageCheck) -> VolumeDescriptor?
    /// `StageKind.makeImplementation` with the stage's parameters.
    func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation
    /// `StageKind.writtenFiles` of the stage's parameters.
    var writtenFiles: [String] { get }
    /// `StageKind.warnings` of the stage's parameters.
    func warnings(stage: String) -> [PipelineDiagnostic]
}

/// A kind and the parameters of one stage of it.
struct Configured<Kind: StageKind>: ConfiguredStage {
    let kind: Kind
    let parameters: Kind.Parameters

    var stageKind: any StageKind { kind }

    func describe(_ check: inout StageCheck) -> VolumeDescriptor? { kind.describe(parameters, &check) }

    func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        try kind.makeImplementation(parameters, for: stage, in: context)
    }

    var writtenFiles: [String] { kind.writtenFiles(parameters) }

    func warnings(stage: String) -> [PipelineDiagnostic] { kind.warnings(parameters, stage: stage) }
}

/// A stage whose values had problems: kept so that validation still orders it and checks its
/// inputs for cycles, never described or run (its pipeline fails validation).
struct Unconfigured: ConfiguredStage {
    let stageKind: any StageKind

    func describe(_ check: inout StageCheck) -> VolumeDescriptor? { nil }

    func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        preconditionFailure("stage '\(stage.name)' failed validation and cannot run")
    }

    var writtenFiles: [String] { [] }

    func warnings(stage: String) -> [PipelineDiagnostic] { [] }
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
    public static let all: [any StageKind] = [ReadStage(), NormalizeStage(), ThresholdStage(), SmoothStage(), MaskStage(), ComponentsStage(), PredictStage(), WriteStage(), DetectStage(), EvaluateStage(), DownsampleStage(), TrainStage()]

    /// The kind called `name`.
    public static func named(_ name: String) -> (any StageKind)? { all.first { $0.name == name } }
}

extension StageSchema {
    /// The schema of every stage kind, for validation messages and the generated reference.
    public static var all: [StageSchema] { StageKinds.all.map(\.schema) }
}
