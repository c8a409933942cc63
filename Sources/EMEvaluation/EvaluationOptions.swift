import EMVolume

/// Everything that decides how a prediction is evaluated.
public struct EvaluationOptions: Hashable, Codable, Sendable {
    /// Voxels with score >= threshold are predicted positive.
    public var threshold: Double
    /// How truth labels map to positive, negative and ignored voxels.
    public var truthRule: TruthRule
    /// Factor from stored prediction values to scores; nil: 1 for float32, 1/255 for uint8,
    /// 1/65535 for uint16. (A uint8 prediction holding 0/1 needs a scale of 1.)
    public var scoreScale: Double?
    /// Bins of the streaming histogram for float scores.
    public var histogramBins: Int
    /// Score range the histogram bins cover; scores outside fall into the end bins (the
    /// reported bounds stay valid).
    public var scoreRange: ValueRange
    /// The exact sweep keeps 8 bytes per counted voxel; above this many voxels the histogram
    /// sweep is used instead (0: always the histogram).
    public var exactVoxelLimit: Int
    /// Evaluate only this box (voxel coordinates of the volume); nil: the whole volume.
    public var region: Box?
    /// Voxel size to use instead of the truth store's (nm).
    public var voxelSize: VoxelSize?
    /// Object metrics; nil skips them.
    public var objects: ObjectOptions?
    /// CREMI cleft distance metrics; nil skips them.
    public var cremi: CremiOptions?
    /// Number of z sections rendered as overlays (0 for none).
    public var overlaySections: Int
    /// Largest overlay image side in pixels; larger sections are downsampled.
    public var overlayMaximumSide: Int
    /// Z sections read per step; nil: the prediction's chunk depth.
    public var slabDepth: Int?

    /// Creates options with the defaults: threshold 0.5, 2^16 histogram bins over [0, 1], exact
    /// sweep up to 2^26 voxels, object and CREMI metrics on, 3 overlays at most 768 pixels.
    public init(threshold: Double = 0.5, truthRule: TruthRule = TruthRule(), scoreScale: Double? = nil,
                histogramBins: Int = 1 << 16, scoreRange: ValueRange = ValueRange(lower: 0, upper: 1),
                exactVoxelLimit: Int = 1 << 26, region: Box? = nil, voxelSize: VoxelSize? = nil,
                objects: ObjectOptions? = ObjectOptions(), cremi: CremiOptions? = CremiOptions(),
                overlaySections: Int = 3, overlayMaximumSide: Int = 768, slabDepth: Int? = nil) {
        self.threshold = threshold
        self.truthRule = truthRule
        self.scoreScale = scoreScale
        self.histogramBins = histogramBins
        self.scoreRange = scoreRange
        self.exactVoxelLimit = exactVoxelLimit
        self.region = region
        self.voxelSize = voxelSize
        self.objects = objects
        self.cremi = cremi
        self.overlaySections = overlaySections
        self.overlayMaximumSide = overlayMaximumSide
        self.slabDepth = slabDepth
    }

    /// Checks values that cannot work.
    func validate() throws -> ScoreBins {
        guard threshold.isFinite else { throw EvaluationError.invalidOption(name: "threshold", expected: "a finite number, got \(threshold)") }
        if let scoreScale, !(scoreScale > 0 && scoreScale.isFinite) {
            throw EvaluationError.invalidOption(name: "score scale", expected: "a positive finite factor, got \(scoreScale)")
        }
        if let slabDepth, slabDepth < 1 { throw EvaluationError.invalidOption(name: "slab depth", expected: "at least 1, got \(slabDepth)") }
        guard overlaySections >= 0, overlayMaximumSide >= 16 else {
            throw EvaluationError.invalidOption(name: "overlays", expected: "0 or more sections of at least 16 pixels")
        }
        if case let .centreDistance(tolerance)? = objects?.criterion, !(tolerance >= 0) {
            throw EvaluationError.invalidOption(name: "match tolerance", expected: "a distance >= 0 nm, got \(tolerance)")
        }
        if case let .overlap(iou)? = objects?.criterion, !(iou > 0 && iou <= 1) {
            throw EvaluationError.invalidOption(name: "match IoU", expected: "a value in (0, 1], got \(iou)")
        }
        return try ScoreBins(lower: scoreRange.lower, upper: scoreRange.upper, count: histogramBins)
    }
}
