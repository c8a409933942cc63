import EMLabels
import EMEvaluation
import EMStorage
import EMVolume
import Foundation

/// `kind: detect`: objects (connected components of the voxels whose score reaches a
/// threshold) with their centres, sizes, scores and bounding boxes, written as CSV and/or JSON.
public struct DetectStage: StageKind {
    static let input = Parameter<VolumeReference>.required("input", .volume, "Scores or probabilities (or a binary or label volume): a stage name or a store address.")
    static let csv = Parameter<String?>.optional("csv", .text, "Path of the CSV file of detections (one row per object).")
    static let json = Parameter<String?>.optional("json", .text, "Path of the JSON file of detections. At least one of csv and json is required.")
    static let threshold = Parameter<Double>.optional("threshold", .anyNumber, default: 0.5, "Voxels whose score (value x score_scale) is at least this are foreground.")
    static let scoreScale = Parameter<Double?>.optional("score_scale", .number(minimum: 0, maximum: nil),
                                                        "Factor from stored values to scores (default: 1/255 for uint8, 1/65535 for uint16, else 1). A 0/1 uint8 mask needs 1.")
    static let minimumSize = Parameter<Int>.optional("minimum_size", .integer(minimum: 1, maximum: nil), default: 1, "Objects with fewer voxels are dropped.")
    static let score = Parameter.choice("score", default: ObjectScore.maximum, "An object's score: the maximum or the mean of its voxels' scores.")
    static let connectivity = Parameter.choice("connectivity", default: Connectivity.corners,
                                               "Neighbours that connect: 6 (faces), 18 (faces and edges) or 26 (also corners).")

    /// A detect stage's parameters.
    public struct Parameters: Sendable {
        /// The files written, CSV first.
        public var files: [DetectionFile]
        /// Threshold, scale (nil: by the input's type), size, score and connectivity.
        public var settings: DetectionSettings
        /// The score scale given (nil: by the input's type).
        public var scoreScale: Double?
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "detect", summary: "Detects objects (connected components above a threshold) and writes their centres, sizes, scores and boxes as CSV and/or JSON.",
                    details: "Each block is labelled alone, components touching across block faces are merged (as in the components stage), and each object is reported once, owned by the block holding its centre (the `block` column). Object ids are 1, 2, ... in order of each object's first voxel in a z, y, x scan, whatever the block shape. Centres are in nanometres (world coordinates) and in voxels. The block labels are kept beside the output so that an interrupted run resumes; the files are replaced atomically when every block is done.",
                    parameters: [Self.input.schema, Self.csv.schema, Self.json.schema, Self.threshold.schema, Self.scoreScale.schema,
                                 Self.minimumSize.schema, Self.score.schema, Self.connectivity.schema],
                    isSink: true)
    }

    public func parameters(_ values: StageValues) -> Parameters {
        let files = [values[Self.csv].map { DetectionFile(format: .csv, path: $0) }, values[Self.json].map { DetectionFile(format: .json, path: $0) }]
        return Parameters(files: files.compactMap { $0 },
                          settings: DetectionSettings(threshold: values[Self.threshold], minimumSize: values[Self.minimumSize],
                                                      score: values[Self.score], connectivity: values[Self.connectivity]),
                          scoreScale: values[Self.scoreScale])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name] else { return nil }
        let files = parameters.files
        guard !files.isEmpty else {
            check.error("give the detections a file: csv: detections.csv and/or json: detections.json")
            return nil
        }
        if files.count == 2 && files[0].path == files[1].path {
            check.error("csv and json name the same file", parameter: Self.json.name)
            return nil
        }
        if parameters.scoreScale == 0 {
            check.error("score_scale must be positive", parameter: Self.scoreScale.name)
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

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        guard let input = context.inputs[Self.input.name] else { preconditionFailure("detect stage '\(stage.name)' was described") }
        var settings = parameters.settings
        settings.scale = parameters.scoreScale ?? Self.defaultScale(input.dataType)
        return Detector(stage: stage.name, placement: VoxelPlacement(voxelSize: input.voxelSize, origin: input.origin),
                        settings: settings, files: parameters.files)
    }

    public func writtenFiles(_ parameters: Parameters) -> [String] { parameters.files.map(\.path) }

    /// The score scale of `type` when none is given (as the evaluation uses).
    static func defaultScale(_ type: DataType) -> Double {
        switch type {
        case .uint8: return 1 / 255
        case .uint16: return 1 / 65535
        default: return 1
        }
    }
}

/// Object scores are written by name: maximum or mean.
extension ObjectScore: ParameterChoice {}

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
