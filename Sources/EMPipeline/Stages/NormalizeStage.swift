import EMStorage
import EMVolume
import Foundation

/// `kind: normalize`: intensities mapped to a standard range (float32), from statistics of the
/// whole input volume computed in a first pass (or from a fixed range).
public struct NormalizeStage: StageKind {
    /// How intensities are mapped.
    public enum Mode: String, ParameterChoice, Sendable {
        /// (x - min) / (max - min) over the volume.
        case minmax
        /// (x - p_lower) / (p_upper - p_lower), percentiles of the volume (8- and 16-bit input).
        case percentile
        /// (x - mean) / standard deviation of the volume.
        case zscore
        /// (x - min) / (max - min) with `min` and `max` given.
        case range
    }

    static let input = Parameter<VolumeReference>.required("input", .volume, "The volume to normalise: a stage name or a store address.")
    static let mode = Parameter.choice("mode", default: Mode.percentile,
                                       "minmax, percentile, zscore (whole-volume statistics) or range (fixed min and max).")
    static let lowerPercentile = Parameter<Double>.optional("lower_percentile", .number(minimum: 0, maximum: 100), default: 1,
                                                            "Percentile mapped to 0 in percentile mode.")
    static let upperPercentile = Parameter<Double>.optional("upper_percentile", .number(minimum: 0, maximum: 100), default: 99,
                                                            "Percentile mapped to 1 in percentile mode.")
    static let minimum = Parameter<Double?>.optional("min", .anyNumber,
                                                     "Value mapped to 0 in range mode (above max: an inverted map, e.g. darkness from 255 to 0).")
    static let maximum = Parameter<Double?>.optional("max", .anyNumber, "Value mapped to 1 in range mode.")
    static let clip = Parameter<Bool>.optional("clip", .boolean, default: true, "Clamp the result to [0, 1] (all modes but zscore).")

    /// A normalize stage's parameters.
    public struct Parameters: Sendable {
        /// How intensities are mapped.
        public var mode: Mode
        /// Percentiles mapped to 0 and 1 (percentile mode).
        public var percentiles: (lower: Double, upper: Double)
        /// Values mapped to 0 and 1 (range mode).
        public var range: (minimum: Double?, maximum: Double?)
        /// Clamp to [0, 1].
        public var clip: Bool
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "normalize", summary: "Maps intensities to a standard range (float32) using statistics of the whole volume.",
                    details: "minmax, percentile and zscore compute their statistics in a first pass over the input (kept beside the outputs, so a resumed run reuses them). Percentiles are nearest-rank and need uint8 or uint16 input.",
                    parameters: [Self.input.schema, Self.mode.schema, Self.lowerPercentile.schema, Self.upperPercentile.schema,
                                 Self.minimum.schema, Self.maximum.schema, Self.clip.schema])
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(mode: values[Self.mode], percentiles: (values[Self.lowerPercentile], values[Self.upperPercentile]),
                   range: (values[Self.minimum], values[Self.maximum]), clip: values[Self.clip])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name] else { return nil }
        switch parameters.mode {
        case .percentile:
            guard input.dataType == .uint8 || input.dataType == .uint16 else {
                check.error("percentile mode needs uint8 or uint16 input, the input is \(input.dataType) (use minmax or zscore)", parameter: Self.mode.name)
                return nil
            }
            guard parameters.percentiles.lower < parameters.percentiles.upper else {
                check.error("must be below upper_percentile (\(parameters.percentiles.upper))", parameter: Self.lowerPercentile.name)
                return nil
            }
        case .range:
            guard let low = parameters.range.minimum, let high = parameters.range.maximum else {
                check.error("range mode needs both min and max", parameter: parameters.range.minimum == nil ? Self.minimum.name : Self.maximum.name)
                return nil
            }
            guard low != high else {
                check.error("must differ from max (\(high)); min above max inverts the map", parameter: Self.minimum.name)
                return nil
            }
        case .minmax, .zscore:
            break
        }
        return input.with(dataType: .float32)
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Normalizer(parameters: parameters, stage: stage.name)
    }
}

/// The affine map a normalisation applies: (x - shift) * scale, optionally clamped to [0, 1].
struct Affine: Codable, Hashable, VolumeOperation {
    var shift: Double
    var scale: Double
    var clip: Bool

    /// The map sending `low` to 0 and `high` to 1 (decreasing when `low > high`; everything to
    /// 0 when they are equal).
    init(low: Double, high: Double, clip: Bool) {
        shift = low
        scale = high != low ? 1 / (high - low) : 0
        self.clip = clip
    }

    init(shift: Double, scale: Double, clip: Bool) {
        self.shift = shift
        self.scale = scale
        self.clip = clip
    }

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> Volume<Float> {
        var result = Volume<Float>(box: volume.box)
        let (shift, scale, clip) = (self.shift, self.scale, self.clip)
        volume.storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count {
                    var v = (source[i].doubleValue - shift) * scale
                    if clip { v = Swift.min(1, Swift.max(0, v)) }
                    target[i] = Float(v)
                }
            }
        }
        return result
    }
}

/// Normalises blocks with an affine map found in `prepare`.
final class Normalizer: BlockTransform {
    private let parameters: NormalizeStage.Parameters
    private let stageName: String
    private var affine: Affine?

    init(parameters: NormalizeStage.Parameters, stage: String) {
        self.parameters = parameters
        self.stageName = stage
    }

    func prepare(_ context: PreparationContext) throws {
        let (mode, clip) = (parameters.mode, parameters.clip)
        if mode == .range, let low = parameters.range.minimum, let high = parameters.range.maximum {
            affine = Affine(low: low, high: high, clip: clip)
            return
        }
        let path = context.directory + "/normalization.json"
        if let data = FileManager.default.contents(atPath: path), let saved = try? JSONDecoder().decode(Affine.self, from: data) {
            affine = saved
            context.recordSkipped(pass: "statistics")
            return
        }
        // Moments are combined in block order so that every run finds the same map.
        let lock = NSLock()
        var partial = [VolumeStatistics](repeating: .empty, count: context.grid.count)
        var histogram: [Int]?
        let region = context.grid.region
        let measure = MeasureVolume(histogram: mode == .percentile)
        try context.stream("input", pass: "statistics") { block, volume in
            guard let inside = block.writeBox.intersection(region) else { return }
            let (statistics, bins) = try volume.cropped(to: inside).apply(measure)
            lock.lock()
            defer { lock.unlock() }
            partial[block.id] = statistics
            if let bins {
                if histogram == nil { histogram = bins } else { for i in bins.indices { histogram![i] += bins[i] } }
            }
        }
        let total = partial.reduce(VolumeStatistics.empty) { $0.combined(with: $1) }
        let result: Affine
        switch mode {
        case .minmax:
            result = Affine(low: total.minimum, high: total.maximum, clip: clip)
        case .percentile:
            let bins = histogram ?? []
            result = Affine(low: percentile(parameters.percentiles.lower, of: bins),
                            high: percentile(parameters.percentiles.upper, of: bins), clip: clip)
        case .zscore:
            let deviation = total.standardDeviation
            result = Affine(shift: total.mean, scale: deviation > 0 ? 1 / deviation : 0, clip: false)
        case .range:
            preconditionFailure("range mode of stage '\(stageName)' was described with min and max")
        }
        try JSONFiles.write(result, to: path)
        affine = result
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        guard let affine else { preconditionFailure("normalize stage '\(stageName)' computed before prepare") }
        return AnyVolume(try inputs["input"]!.apply(affine))
    }
}
