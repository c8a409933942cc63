/// One point of a precision-recall curve: the decision "score >= threshold".
public struct CurvePoint: Hashable, Codable, Sendable {
    /// The score threshold.
    public var threshold: Double
    /// Precision at the threshold.
    public var precision: Double
    /// Recall at the threshold.
    public var recall: Double
    /// F1 at the threshold.
    public var f1: Double
    /// False positive rate at the threshold (the ROC curve's x axis).
    public var falsePositiveRate: Double

    /// Creates a point.
    public init(threshold: Double, precision: Double, recall: Double, f1: Double, falsePositiveRate: Double) {
        self.threshold = threshold
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.falsePositiveRate = falsePositiveRate
    }
}

/// A closed interval known to contain a value.
public struct ValueRange: Hashable, Codable, Sendable {
    /// Smallest possible value.
    public var lower: Double
    /// Largest possible value.
    public var upper: Double

    /// Creates a range.
    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// `upper - lower`.
    public var width: Double { upper - lower }

    /// True when `value` lies in the range widened by `slack` on both sides.
    public func contains(_ value: Double, slack: Double = 0) -> Bool { value >= lower - slack && value <= upper + slack }
}

/// How a curve was computed.
public enum CurveMethod: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Every distinct score is a threshold (scikit-learn's curve).
    case exact
    /// Scores were counted in a histogram of this many bins; thresholds are bin edges.
    case histogram(bins: Int)

    public var description: String {
        switch self {
        case .exact: return "exact"
        case let .histogram(bins): return "histogram (\(bins) bins)"
        }
    }
}

/// What a sweep of the decision threshold over all scores yields.
///
/// Definitions follow scikit-learn: average precision is `sum_n (R_n - R_{n-1}) P_n` over the
/// distinct thresholds in decreasing order (no interpolation, `R_{-1} = 0`, and 0 when there
/// are no positives), ROC-AUC is the trapezoidal area under the ROC curve with tied scores
/// (nil when either class is absent).
///
/// For a histogram sweep the values are those of the binned scores, and the ranges bound the
/// exact values: every arrangement of scores inside the bins is considered, so the exact
/// average precision is guaranteed to lie in `averagePrecisionRange`, the exact ROC-AUC in
/// `rocAUCRange`, and the best F1 over all exact thresholds is at most `bestF1Range.upper`.
/// For an exact sweep the ranges are the single values.
public struct CurveSummary: Hashable, Codable, Sendable {
    /// How the sweep was computed.
    public var method: CurveMethod
    /// Positive voxels (or objects) counted.
    public var positives: Int
    /// Negative voxels counted.
    public var negatives: Int
    /// Number of distinct thresholds swept.
    public var thresholdCount: Int
    /// Average precision (PR-AUC without interpolation).
    public var averagePrecision: Double
    /// Interval that contains the exact average precision.
    public var averagePrecisionRange: ValueRange
    /// Area under the ROC curve; nil when there are no positives or no negatives.
    public var rocAUC: Double?
    /// Interval that contains the exact ROC-AUC.
    public var rocAUCRange: ValueRange?
    /// The largest F1 over the swept thresholds.
    public var bestF1: Double
    /// Interval that contains the largest F1 over all exact thresholds.
    public var bestF1Range: ValueRange
    /// The threshold that reaches `bestF1` (the highest such threshold); nil when nothing was swept.
    public var bestThreshold: Double?
    /// A sample of the curve in decreasing threshold order, for plots (at most about a
    /// thousand points; includes the first, the last and the best-F1 point).
    public var points: [CurvePoint]
}
