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

    /// A block counted on its own (possibly on another thread), ready to be added.
    public struct CountedBlock: Sendable {
        fileprivate var histogram: ScoreHistogram<S>
        fileprivate var tally: ScoreHistogram<S>.Tally
    }

    /// Counts a block into a fresh histogram without touching the accumulator, so that blocks
    /// can be counted while others are read or labelled; `add(_:scores:classes:)` adds it.
    ///
    /// - Throws: `EvaluationError.shapeMismatch` when the boxes differ, and
    ///   `EvaluationError.nonFiniteScore` (naming the voxel) for a NaN or infinite score.
    public func count(scores: Volume<S>, classes: Volume<UInt8>) throws -> CountedBlock {
        guard scores.box == classes.box else {
            throw EvaluationError.shapeMismatch(what: "truth block", expected: "prediction block \(scores.box)", found: "\(classes.box)")
        }
        var block = CountedBlock(histogram: ScoreHistogram(bins: histogram.bins, scale: scale), tally: .init())
        block.tally = scores.storage.withUnsafeBufferPointer { s in
            classes.storage.withUnsafeBufferPointer { block.histogram.tally(scores: s, classes: $0, decisionKey: thresholdKey) }
        }
        if let bad = block.tally.firstNonFinite {
            let local = Coordinate(bad / (scores.shape.y * scores.shape.x), (bad / scores.shape.x) % scores.shape.y, bad % scores.shape.x)
            throw EvaluationError.nonFiniteScore(what: "prediction", location: "voxel \(scores.box.offset + local)")
        }
        return block
    }

    /// Adds a block counted by `count(scores:classes:)` from the same scores and classes.
    public mutating func add(_ block: CountedBlock, scores: Volume<S>, classes: Volume<UInt8>) {
        histogram.merge(block.histogram)
        counts = counts + block.tally.counts
        ignored += block.tally.ignored
        guard exact != nil else { return }
        if exact!.count + scores.storage.count - block.tally.ignored > exactLimit {
            exact = nil // too many voxels to keep: the histogram takes over
        } else {
            scores.storage.withUnsafeBufferPointer { s in classes.storage.withUnsafeBufferPointer { exact!.append(scores: s, classes: $0) } }
        }
    }

    /// Counts and adds a block of scores and the classes of the same voxels.
    ///
    /// - Throws: the errors of `count(scores:classes:)`.
    public mutating func add(scores: Volume<S>, classes: Volume<UInt8>) throws {
        add(try count(scores: scores, classes: classes), scores: scores, classes: classes)
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
}
