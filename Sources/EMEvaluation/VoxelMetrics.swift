import EMVolume

/// Voxel-level results: the decision at one threshold and the sweep over all thresholds.
public struct VoxelMetrics: Hashable, Codable, Sendable {
    /// The decision threshold (a voxel is predicted positive when its score is at least this).
    public var threshold: Double
    /// Counts at `threshold` (always exact, also in streaming evaluation).
    public var counts: ConfusionCounts
    /// Precision at `threshold`.
    public var precision: Double
    /// Recall at `threshold`.
    public var recall: Double
    /// F1 at `threshold`.
    public var f1: Double
    /// Intersection over union at `threshold`.
    public var iou: Double
    /// Voxels left out (masked or invalid).
    public var ignoredVoxels: Int
    /// The sweep over all thresholds: average precision, ROC-AUC, best F1, curve points.
    public var curve: CurveSummary

    /// Creates a result from counts and a sweep.
    public init(threshold: Double, counts: ConfusionCounts, ignoredVoxels: Int, curve: CurveSummary) {
        self.threshold = threshold
        self.counts = counts
        self.precision = counts.precision
        self.recall = counts.recall
        self.f1 = counts.f1
        self.iou = counts.iou
        self.ignoredVoxels = ignoredVoxels
        self.curve = curve
    }
}

/// Accumulates voxel metrics block by block: exact counts at the threshold, a score
/// histogram, and (while the number of counted voxels stays within `exactLimit`) every score
/// for the exact sweep.
public struct VoxelAccumulator<S: ScoreValue>: Sendable {
    /// The decision threshold.
    public let threshold: Double
    /// Factor from stored values to scores.
    public let scale: Double
    private let thresholdKey: UInt64
    private let exactLimit: Int
    private var counts = ConfusionCounts()
    private var ignored = 0
    private var histogram: ScoreHistogram<S>
    private var exact: ExactScores<S>?

    /// Creates an accumulator.
    ///
    /// - Parameters:
    ///   - exactLimit: keep every score for the exact sweep while at most this many voxels
    ///     are counted; beyond it the histogram sweep is used (0: always the histogram).
    public init(threshold: Double, scale: Double = S.defaultScale, bins: ScoreBins, exactLimit: Int) {
        self.threshold = threshold
        self.scale = scale
        self.thresholdKey = S.thresholdKey(for: threshold, scale: scale)
        self.exactLimit = exactLimit
        histogram = ScoreHistogram(bins: bins, scale: scale)
        exact = exactLimit > 0 && S.distinctValues == nil ? ExactScores(scale: scale) : nil
    }

    /// Adds a block of scores and the classes of the same voxels.
    ///
    /// - Throws: `EvaluationError.shapeMismatch` when the boxes differ, and
    ///   `EvaluationError.nonFiniteScore` (naming the voxel) for a NaN or infinite score.
    public mutating func add(scores: Volume<S>, classes: Volume<UInt8>) throws {
        guard scores.box == classes.box else {
            throw EvaluationError.shapeMismatch(what: "truth block", expected: "prediction block \(scores.box)", found: "\(classes.box)")
        }
        try scores.storage.withUnsafeBufferPointer { s in
            try classes.storage.withUnsafeBufferPointer { c in
                if let bad = countDecisions(scores: s, classes: c) {
                    let local = Coordinate(bad / (scores.shape.y * scores.shape.x), (bad / scores.shape.x) % scores.shape.y, bad % scores.shape.x)
                    throw EvaluationError.nonFiniteScore(what: "prediction", location: "voxel \(scores.box.offset + local)")
                }
                histogram.add(scores: s, classes: c)
                if exact != nil {
                    if exact!.count + s.count - c.count(where: { $0 == VoxelClass.ignored.rawValue }) > exactLimit {
                        exact = nil // too many voxels to keep: the histogram takes over
                    } else {
                        exact!.append(scores: s, classes: c)
                    }
                }
            }
        }
    }

    /// Counts the decisions at the threshold; returns the index of a non-finite score, if any.
    private mutating func countDecisions(scores: UnsafeBufferPointer<S>, classes: UnsafeBufferPointer<UInt8>) -> Int? {
        var tp = 0, fp = 0, fn = 0, tn = 0, skipped = 0
        var allFinite = true
        let key = thresholdKey
        for i in 0..<scores.count {
            let score = scores[i]
            allFinite = allFinite && score.isFiniteScore
            let predicted = UInt64(score.orderKey) >= key
            switch classes[i] {
            case VoxelClass.positive.rawValue: if predicted { tp += 1 } else { fn += 1 }
            case VoxelClass.negative.rawValue: if predicted { fp += 1 } else { tn += 1 }
            default: skipped += 1
            }
        }
        if !allFinite { return scores.firstIndex { !$0.isFiniteScore } }
        counts = counts + ConfusionCounts(truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn)
        ignored += skipped
        return nil
    }

    /// The metrics of everything added: the exact sweep when every score was kept (or the
    /// scores are integers), the histogram sweep otherwise.
    public func finish() -> VoxelMetrics {
        let sweep: CurveSummary
        if var exact {
            sweep = exact.summary()
        } else {
            sweep = histogram.summary()
        }
        return VoxelMetrics(threshold: threshold, counts: counts, ignoredVoxels: ignored, curve: sweep)
    }

    /// The sweep over the histogram alone (for comparing it with the exact sweep).
    public func histogramSummary() -> CurveSummary { histogram.summary() }
}
