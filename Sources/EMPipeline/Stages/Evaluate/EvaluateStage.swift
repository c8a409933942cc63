import EMEvaluation
import EMStorage
import EMStores
import EMVolume
import Foundation

/// `kind: evaluate`: evaluates a prediction against ground truth with EMEvaluation (voxel F1
/// and PR-AUC, object F1, CREMI distances) once the stages writing them have finished, and
/// writes the report (report.html, report.json, report.md).
public struct EvaluateStage: StageKind {
    /// The kind's name.
    public static let kind = "evaluate"

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: Self.kind, summary: "Evaluates a prediction against ground truth and writes an HTML, JSON and Markdown report.",
                    details: "Runs after every blockwise stage has finished, streaming z slabs of the stored volumes (memory bounded by a slab, not the volume), with the same metrics as `emflow evaluate`: voxel precision, recall, F1, PR-AUC and ROC-AUC; object F1 (components matched by centre distance); CREMI cleft distances. The evaluation runs on every run (the volumes it reads may have changed), and only when every block of the run succeeded.",
                    parameters: [
                        .required("prediction", .storedVolume, "The scores (float32, uint8 or uint16): a write stage of this pipeline or the address of an existing volume."),
                        .required("truth", .storedVolume, "The ground-truth labels (integer): a write stage or the address of an existing volume."),
                        .optional("mask", .storedVolume, default: nil, "Integer mask: voxels where it is 0 are ignored."),
                        .optional("raw", .storedVolume, default: nil, "Raw EM data drawn under the slice overlays."),
                        .required("output", .text, "Directory of the report (created): report.html, report.json, report.md."),
                        .optional("name", .text, default: nil, "Name of this prediction in the report (default: the stage name)."),
                        .optional("threshold", .anyNumber, default: .number(0.5), "Voxels whose score is at least this are predicted positive (voxel and object metrics)."),
                        .optional("score_scale", .number(minimum: 0, maximum: nil), default: nil,
                                  "Factor from stored prediction values to scores (default: 1/255 for uint8, 1/65535 for uint16, 1 for float32)."),
                        .optional("background", .integer(minimum: 0, maximum: nil), default: .integer(0), "Truth label value of background voxels; other values are positive."),
                        .optional("invalid", .integer(minimum: 0, maximum: nil), default: nil, "Truth label value of invalid voxels, which are ignored (as in CREMI)."),
                        .optional("objects", .boolean, default: .boolean(true), "Compute object metrics (components matched by centre distance)."),
                        .optional("match_tolerance", .number(minimum: 0, maximum: nil), default: .number(200), "Object matching: largest centre distance in nm."),
                        .optional("minimum_size", .integer(minimum: 1, maximum: nil), default: .integer(1), "Object metrics: smallest predicted object in voxels."),
                        .optional("cremi", .boolean, default: .boolean(true), "Compute CREMI cleft distances (ADGT, ADF)."),
                        .optional("overlays", .integer(minimum: 0, maximum: nil), default: .integer(3), "Number of z sections drawn as overlays in the report."),
                    ],
                    isSink: true)
    }

    public var phase: StagePhase { .afterBlocks }

    public func describe(_ check: inout StageCheck) -> VolumeDescriptor? {
        var described: [String: VolumeDescriptor] = [:]
        for name in ["prediction", "truth", "mask", "raw"] {
            guard check.stage.values[name] != nil else { continue }
            if let writer = check.references[name] {
                guard writer.kind == WriteStage.kind, let output = writer.output else {
                    check.error("stage '\(writer.name)' is a \(writer.kind) stage; \(name) names a write stage or a store address", parameter: name)
                    return nil
                }
                described[name] = output
            } else {
                let address = check.stage.store(name)!
                do {
                    let m = try Stores.open(address).metadata
                    described[name] = VolumeDescriptor(metadata: m)
                } catch {
                    check.error("missing input: cannot open '\(address)': \(error)", parameter: name)
                    return nil
                }
            }
        }
        guard let prediction = described["prediction"], let truth = described["truth"] else { return nil }
        guard [.float32, .uint8, .uint16].contains(prediction.dataType) else {
            check.error("the prediction holds \(prediction.dataType) voxels; scores are float32, uint8 or uint16", parameter: "prediction")
            return nil
        }
        for name in ["truth", "mask"] where described[name]?.dataType == .float32 {
            check.error("the \(name) holds float32 voxels; labels are integers", parameter: name)
            return nil
        }
        for (name, volume) in described where volume.shape != truth.shape {
            check.error("the \(name) has shape \(volume.shape), the truth \(truth.shape): they must match", parameter: name)
            return nil
        }
        if check.stage.number("score_scale") == 0 {
            check.error("score_scale must be positive", parameter: "score_scale")
            return nil
        }
        return prediction
    }

    public func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        var addresses: [String: StoreAddress] = [:]
        for name in ["prediction", "truth", "mask", "raw"] {
            if let writer = stage.references[name].flatMap(context.pipeline.stage) {
                addresses[name] = writer.store("output")
            } else if let address = stage.store(name) {
                addresses[name] = address
            }
        }
        return Evaluation(addresses: addresses, options: Self.options(stage), name: stage.text("name") ?? stage.name,
                          output: stage.text("output")!)
    }

    public func outputs(of stage: PipelineStage) -> [String] { stage.text("output").map { [$0] } ?? [] }

    /// The evaluation options the stage's parameters ask for.
    static func options(_ stage: PipelineStage) -> EvaluationOptions {
        var options = EvaluationOptions(threshold: stage.number("threshold") ?? 0.5,
                                        truthRule: TruthRule(background: UInt64(stage.integer("background") ?? 0),
                                                             invalid: stage.integer("invalid").map(UInt64.init)),
                                        scoreScale: stage.number("score_scale"))
        options.objects = stage.boolean("objects") == false ? nil
            : ObjectOptions(minimumSize: .voxels(stage.integer("minimum_size") ?? 1),
                            criterion: .centreDistance(tolerance: stage.number("match_tolerance") ?? 200))
        if stage.boolean("cremi") == false { options.cremi = nil }
        options.overlaySections = stage.integer("overlays") ?? 3
        return options
    }
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
