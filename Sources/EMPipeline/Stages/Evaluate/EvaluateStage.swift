import EMEvaluation
import EMStorage
import EMStores
import EMVolume
import Foundation

/// `kind: evaluate`: evaluates a prediction against ground truth with EMEvaluation (voxel F1
/// and PR-AUC, object F1, CREMI distances) once the stages writing them have finished, and
/// writes the report (report.html, report.json, report.md).
public struct EvaluateStage: StageKind {
    static let prediction = Parameter<VolumeReference>.required("prediction", .storedVolume, "The scores (float32, uint8 or uint16): a write stage of this pipeline or the address of an existing volume.")
    static let truth = Parameter<VolumeReference>.required("truth", .storedVolume, "The ground-truth labels (integer): a write stage or the address of an existing volume.")
    static let mask = Parameter<VolumeReference?>.optional("mask", .storedVolume, "Integer mask: voxels where it is 0 are ignored.")
    static let raw = Parameter<VolumeReference?>.optional("raw", .storedVolume, "Raw EM data drawn under the slice overlays.")
    static let output = Parameter<String>.required("output", .text, "Directory of the report (created): report.html, report.json, report.md.")
    static let reportName = Parameter<String?>.optional("name", .text, "Name of this prediction in the report (default: the stage name).")
    static let threshold = Parameter<Double>.optional("threshold", .anyNumber, default: 0.5, "Voxels whose score is at least this are predicted positive (voxel and object metrics).")
    static let scoreScale = Parameter<Double?>.optional("score_scale", .number(minimum: 0, maximum: nil),
                                                        "Factor from stored prediction values to scores (default: 1/255 for uint8, 1/65535 for uint16, 1 for float32).")
    static let background = Parameter<Int>.optional("background", .integer(minimum: 0, maximum: nil), default: 0, "Truth label value of background voxels; other values are positive.")
    static let invalid = Parameter<Int?>.optional("invalid", .integer(minimum: 0, maximum: nil), "Truth label value of invalid voxels, which are ignored (as in CREMI).")
    static let objects = Parameter<Bool>.optional("objects", .boolean, default: true, "Compute object metrics (components matched by centre distance).")
    static let matchTolerance = Parameter<Double>.optional("match_tolerance", .number(minimum: 0, maximum: nil), default: 200, "Object matching: largest centre distance in nm.")
    static let minimumSize = Parameter<Int>.optional("minimum_size", .integer(minimum: 1, maximum: nil), default: 1, "Object metrics: smallest predicted object in voxels.")
    static let cremi = Parameter<Bool>.optional("cremi", .boolean, default: true, "Compute CREMI cleft distances (ADGT, ADF).")
    static let overlays = Parameter<Int>.optional("overlays", .integer(minimum: 0, maximum: nil), default: 3, "Number of z sections drawn as overlays in the report.")

    /// An evaluate stage's parameters.
    public struct Parameters: Sendable {
        /// The volumes by role (prediction, truth, mask, raw); absent roles are left out.
        public var volumes: [String: VolumeReference]
        /// The report's directory.
        public var output: String
        /// The prediction's name in the report (nil: the stage name).
        public var name: String?
        /// The metrics and their settings.
        public var options: EvaluationOptions
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "evaluate", summary: "Evaluates a prediction against ground truth and writes an HTML, JSON and Markdown report.",
                    details: "Runs after every blockwise stage has finished, streaming z slabs of the stored volumes (memory bounded by a slab, not the volume), with the same metrics as `emflow evaluate`: voxel precision, recall, F1, PR-AUC and ROC-AUC; object F1 (components matched by centre distance); CREMI cleft distances. The evaluation runs on every run (the volumes it reads may have changed), and only when every block of the run succeeded.",
                    parameters: [Self.prediction.schema, Self.truth.schema, Self.mask.schema, Self.raw.schema, Self.output.schema,
                                 Self.reportName.schema, Self.threshold.schema, Self.scoreScale.schema, Self.background.schema,
                                 Self.invalid.schema, Self.objects.schema, Self.matchTolerance.schema, Self.minimumSize.schema,
                                 Self.cremi.schema, Self.overlays.schema],
                    isSink: true)
    }

    public var phase: StagePhase { .afterBlocks }

    public func parameters(_ values: StageValues) -> Parameters {
        var options = EvaluationOptions(threshold: values[Self.threshold],
                                        truthRule: TruthRule(background: UInt64(values[Self.background]), invalid: values[Self.invalid].map(UInt64.init)),
                                        scoreScale: values[Self.scoreScale])
        options.objects = values[Self.objects]
            ? ObjectOptions(minimumSize: .voxels(values[Self.minimumSize]), criterion: .centreDistance(tolerance: values[Self.matchTolerance]))
            : nil
        if !values[Self.cremi] { options.cremi = nil }
        options.overlaySections = values[Self.overlays]
        let volumes: [String: VolumeReference?] = [Self.prediction.name: values[Self.prediction], Self.truth.name: values[Self.truth],
                                                   Self.mask.name: values[Self.mask], Self.raw.name: values[Self.raw]]
        return Parameters(volumes: volumes.compactMapValues { $0 }, output: values[Self.output], name: values[Self.reportName], options: options)
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        var described: [String: VolumeDescriptor] = [:]
        for role in [Self.prediction, Self.truth].map(\.name) + [Self.mask, Self.raw].map(\.name) {
            guard let volume = parameters.volumes[role] else { continue }
            guard let descriptor = WriteStage.describeStored(volume, parameter: role, &check) else { return nil }
            described[role] = descriptor
        }
        guard let prediction = described[Self.prediction.name], let truth = described[Self.truth.name] else { return nil }
        guard [.float32, .uint8, .uint16].contains(prediction.dataType) else {
            check.error("the prediction holds \(prediction.dataType) voxels; scores are float32, uint8 or uint16", parameter: Self.prediction.name)
            return nil
        }
        for role in [Self.truth.name, Self.mask.name] where described[role]?.dataType == .float32 {
            check.error("the \(role) holds float32 voxels; labels are integers", parameter: role)
            return nil
        }
        for (role, volume) in described.sorted(by: { $0.key < $1.key }) where volume.shape != truth.shape {
            check.error("the \(role) has shape \(volume.shape), the truth \(truth.shape): they must match", parameter: role)
            return nil
        }
        if parameters.options.scoreScale == 0 {
            check.error("score_scale must be positive", parameter: Self.scoreScale.name)
            return nil
        }
        return prediction
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        let addresses = parameters.volumes.mapValues { WriteStage.storedAddress($0, in: context.pipeline) }
        return Evaluation(addresses: addresses, options: parameters.options, name: parameters.name ?? stage.name, output: parameters.output)
    }

    public func writtenFiles(_ parameters: Parameters) -> [String] { [parameters.output] }
}

/// Evaluates stored volumes and writes the report.
final class Evaluation: StageStep {
    private let addresses: [String: StoreAddress]
    private let options: EvaluationOptions
    private let name: String
    let outputDirectory: String
    var reusesFinishedResult: Bool { false }

    init(addresses: [String: StoreAddress], options: EvaluationOptions, name: String, output: String) {
        self.addresses = addresses
        self.options = options
        self.name = name
        self.outputDirectory = output
    }

    func run(resume: Bool) throws {
        func open(_ role: String) throws -> VolumeStore? { try addresses[role].map { try Stores.openComplete($0) } }
        let result = try Evaluator.evaluate(prediction: try open("prediction")!, truth: try open("truth")!, mask: try open("mask"),
                                            raw: try open("raw"), name: name, options: options)
        let report = EvaluationReport(title: "Evaluation of \(name)", runs: [RunEvaluation(name: name, volumes: [result])])
        try ReportWriter.write(report, to: URL(fileURLWithPath: outputDirectory))
    }
}
