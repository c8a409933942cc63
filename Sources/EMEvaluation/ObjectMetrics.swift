import EMLabels

/// The smallest predicted object kept.
public enum MinimumSize: Hashable, Codable, Sendable, CustomStringConvertible {
    /// At least this many voxels.
    case voxels(Int)
    /// At least this physical volume in cubic nanometres.
    case cubicNanometres(Double)

    /// True when `object` is large enough.
    public func keeps(_ object: DetectedObject) -> Bool {
        switch self {
        case let .voxels(count): return object.voxelCount >= count
        case let .cubicNanometres(volume): return object.volume >= volume
        }
    }

    public var description: String {
        switch self {
        case let .voxels(count): return "\(count) voxels"
        case let .cubicNanometres(volume): return "\(volume) nm^3"
        }
    }
}

/// How objects are found and matched.
public struct ObjectOptions: Hashable, Codable, Sendable {
    /// Neighbourhood of connected components.
    public var connectivity: Connectivity
    /// Predicted objects smaller than this are dropped (truth objects are all kept).
    public var minimumSize: MinimumSize
    /// How a predicted object's score is made from its voxels' scores.
    public var score: ObjectScore
    /// When a prediction finds a truth.
    public var criterion: MatchCriterion
    /// Score threshold that makes the predicted components; nil: the voxel threshold.
    public var componentThreshold: Double?

    /// Creates options; the defaults are 26-connectivity, no size filter, maximum score and
    /// centres within 200 nm (CREMI's distance).
    public init(connectivity: Connectivity = .corners, minimumSize: MinimumSize = .voxels(1), score: ObjectScore = .maximum,
                criterion: MatchCriterion = .centreDistance(tolerance: 200), componentThreshold: Double? = nil) {
        self.connectivity = connectivity
        self.minimumSize = minimumSize
        self.score = score
        self.criterion = criterion
        self.componentThreshold = componentThreshold
    }
}

/// Object-level results: counts at the component threshold, the matching, and the precision-
/// recall sweep over object scores.
public struct ObjectMetrics: Hashable, Codable, Sendable {
    /// The options used.
    public var options: ObjectOptions
    /// The score threshold that made the predicted components.
    public var componentThreshold: Double
    /// Predicted objects dropped by the size filter.
    public var removedSmall: Int
    /// Matched predictions (TP), unmatched predictions (FP) and unmatched truths (FN).
    public var counts: ConfusionCounts
    /// Object precision.
    public var precision: Double
    /// Object recall.
    public var recall: Double
    /// Object F1.
    public var f1: Double
    /// Mean centre distance of the matched pairs (nm); nil without matches.
    public var meanMatchDistance: Double?
    /// The matched pairs (indices into `predictions` and `truths`).
    public var matches: [ObjectMatch]
    /// Sizes of object clusters too large for the Hungarian method (their match counts are
    /// exact, their pairs greedy; see `ObjectMatcher`); empty normally.
    public var largeClusters: [Int]
    /// The predicted objects kept after the size filter.
    public var predictions: [DetectedObject]
    /// The true objects.
    public var truths: [DetectedObject]
    /// Sweep over object scores: precision and recall when only objects with score >= t are
    /// kept, average precision `sum (R_n - R_{n-1}) P_n` (recall relative to all truths, so it
    /// may end below 1). ROC-AUC is not defined for objects (nil).
    public var curve: CurveSummary

    /// Filters, matches and sweeps collected objects.
    public init(objects: CollectedObjects, options: ObjectOptions, componentThreshold: Double) {
        self.options = options
        self.componentThreshold = componentThreshold
        var keptIndex = [Int?](repeating: nil, count: objects.predictions.count)
        var kept: [DetectedObject] = []
        for (i, object) in objects.predictions.enumerated() where options.minimumSize.keeps(object) {
            keptIndex[i] = kept.count
            kept.append(object)
        }
        var overlaps: [ObjectPair: Int] = [:]
        for (pair, count) in objects.overlaps {
            if let p = keptIndex[pair.prediction] { overlaps[ObjectPair(prediction: p, truth: pair.truth)] = count }
        }
        removedSmall = objects.predictions.count - kept.count
        predictions = kept
        truths = objects.truths
        (matches, largeClusters) = ObjectMatcher.assign(predictions: kept, truths: truths, overlaps: overlaps, criterion: options.criterion)
        counts = ConfusionCounts(truePositives: matches.count, falsePositives: kept.count - matches.count,
                                 falseNegatives: truths.count - matches.count)
        precision = counts.precision
        recall = counts.recall
        f1 = counts.f1
        meanMatchDistance = matches.isEmpty ? nil : matches.map(\.distance).reduce(0, +) / Double(matches.count)
        let sweep = ObjectMatcher.matchCountsBySweep(predictions: kept, truths: truths, overlaps: overlaps, criterion: options.criterion)
        let span = (sweep.first?.score ?? 0) - (sweep.last?.score ?? 0)
        var builder = CurveBuilder(positives: truths.count, negatives: 0, method: .exact, thresholdSpan: span)
        var matchedBefore = 0
        for step in sweep {
            let newMatches = step.matched - matchedBefore
            builder.add(threshold: step.score, positives: newMatches, negatives: step.added - newMatches)
            matchedBefore = step.matched
        }
        curve = builder.finish()
    }
}
