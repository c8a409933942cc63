import EMLabels
import EMEvaluation
import EMStorage
import EMVolume
import Foundation

/// `kind: detect`: objects (connected components of the voxels whose score reaches a
/// threshold) with their centres, sizes, scores and bounding boxes, written as CSV and/or JSON.
public struct DetectStage: StageKind {
    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "detect", summary: "Detects objects (connected components above a threshold) and writes their centres, sizes, scores and boxes as CSV and/or JSON.",
                    details: "Each block is labelled alone, components touching across block faces are merged (as in the components stage), and each object is reported once, owned by the block holding its centre (the `block` column). Object ids are 1, 2, ... in order of each object's first voxel in a z, y, x scan, whatever the block shape. Centres are in nanometres (world coordinates) and in voxels. The block labels are kept beside the output so that an interrupted run resumes; the files are replaced atomically when every block is done.",
                    parameters: [
                        .required("input", .volume, "Scores or probabilities (or a binary or label volume): a stage name or a store address."),
                        .optional("csv", .text, default: nil, "Path of the CSV file of detections (one row per object)."),
                        .optional("json", .text, default: nil, "Path of the JSON file of detections. At least one of csv and json is required."),
                        .optional("threshold", .anyNumber, default: .number(0.5), "Voxels whose score (value x score_scale) is at least this are foreground."),
                        .optional("score_scale", .number(minimum: 0, maximum: nil), default: nil,
                                  "Factor from stored values to scores (default: 1/255 for uint8, 1/65535 for uint16, else 1). A 0/1 uint8 mask needs 1."),
                        .optional("minimum_size", .integer(minimum: 1, maximum: nil), default: .integer(1), "Objects with fewer voxels are dropped."),
                        .optional("score", .choice([ObjectScore.maximum.rawValue, ObjectScore.mean.rawValue]), default: .text(ObjectScore.maximum.rawValue),
                                  "An object's score: the maximum or the mean of its voxels' scores."),
                        .optional("connectivity", .choice(Connectivity.allCases.map { String($0.neighbourCount) }), default: .text("26"),
                                  "Neighbours that connect: 6 (faces), 18 (faces and edges) or 26 (also corners)."),
                    ],
                    isSink: true)
    }

    public func describe(_ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs["input"] else { return nil }
        let stage = check.stage
        let files = Self.files(stage)
        guard !files.isEmpty else {
            check.error("give the detections a file: csv: detections.csv and/or json: detections.json")
            return nil
        }
        if files.count == 2 && files[0].path == files[1].path {
            check.error("csv and json name the same file", parameter: "json")
            return nil
        }
        if stage.number("score_scale") == 0 {
            check.error("score_scale must be positive", parameter: "score_scale")
            return nil
        }
        for file in files {
            let directory = URL(fileURLWithPath: file.path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && !isDirectory.boolValue {
                check.error("cannot write '\(file.path)': '\(directory)' is not a directory", parameter: file.format.rawValue)
                return nil
            }
        }
        if Coordinate.minimum(check.execution.blockShape, input.shape).product >= Int(UInt32.max) {
            check.error("a block of \(check.execution.blockShape) holds too many voxels to label (at most 2^32 - 1)")
            return nil
        }
        return input
    }

    public func makeImplementation(for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        guard let input = context.inputs["input"] else { preconditionFailure("detect stage '\(stage.name)' was described") }
        let grid = try BlockGrid(region: Box(shape: input.shape), blockShape: context.execution.blockShape, fit: context.execution.edgeFit)
        let settings = DetectionSettings(threshold: stage.number("threshold") ?? 0.5,
                                         scale: stage.number("score_scale") ?? Self.defaultScale(input.dataType),
                                         minimumSize: stage.integer("minimum_size") ?? 1,
                                         score: ObjectScore(rawValue: stage.text("score") ?? "maximum")!,
                                         connectivity: Connectivity(neighbourCount: Int(stage.text("connectivity") ?? "26")!)!)
        return Detector(stage: stage.name, grid: grid, placement: VoxelPlacement(voxelSize: input.voxelSize, origin: input.origin),
                        settings: settings, files: Self.files(stage))
    }

    public func outputs(of stage: PipelineStage) -> [String] { Self.files(stage).map(\.path) }

    /// The files the stage writes, CSV first.
    static func files(_ stage: PipelineStage) -> [DetectionFile] {
        [stage.text("csv").map { DetectionFile(format: .csv, path: $0) }, stage.text("json").map { DetectionFile(format: .json, path: $0) }]
            .compactMap { $0 }
    }

    /// The score scale of `type` when none is given (as the evaluation uses).
    static func defaultScale(_ type: DataType) -> Double {
        switch type {
        case .uint8: return 1 / 255
        case .uint16: return 1 / 65535
        default: return 1
        }
    }
}

/// How the detect stage finds and scores objects.
public struct DetectionSettings: Hashable, Sendable {
    /// Foreground: value x scale >= threshold.
    public var threshold: Double
    /// Factor from stored values to scores.
    public var scale: Double
    /// Smallest object kept, in voxels.
    public var minimumSize: Int
    /// Maximum or mean voxel score.
    public var score: ObjectScore
    /// Which voxels touch.
    public var connectivity: Connectivity

    /// Creates settings.
    public init(threshold: Double = 0.5, scale: Double = 1, minimumSize: Int = 1, score: ObjectScore = .maximum, connectivity: Connectivity = .corners) {
        self.threshold = threshold
        self.scale = scale
        self.minimumSize = minimumSize
        self.score = score
        self.connectivity = connectivity
    }
}
