/// Counts of a binary decision against truth, and the ratios derived from them.
///
/// Ratios whose denominator is zero follow scikit-learn's `zero_division=0` convention
/// (they are 0), except where noted.
public struct ConfusionCounts: Hashable, Codable, Sendable {
    /// Predicted positive, truly positive.
    public var truePositives: Int
    /// Predicted positive, truly negative.
    public var falsePositives: Int
    /// Predicted negative, truly positive.
    public var falseNegatives: Int
    /// Predicted negative, truly negative.
    public var trueNegatives: Int

    /// Creates counts.
    public init(truePositives: Int = 0, falsePositives: Int = 0, falseNegatives: Int = 0, trueNegatives: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.trueNegatives = trueNegatives
    }

    /// TP / (TP + FP); 0 when nothing is predicted.
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// TP / (TP + FN); 0 when there is nothing to find.
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    /// 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall; 0 when both sides are empty.
    public var f1: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }
    /// TP / (TP + FP + FN), intersection over union (Jaccard index); 0 when both sides are empty.
    public var iou: Double { ratio(truePositives, truePositives + falsePositives + falseNegatives) }
    /// Truly positive voxels or objects counted.
    public var positives: Int { truePositives + falseNegatives }
    /// Everything counted.
    public var total: Int { truePositives + falsePositives + falseNegatives + trueNegatives }

    /// Sums two sets of counts (e.g. over blocks or volumes).
    public static func + (a: ConfusionCounts, b: ConfusionCounts) -> ConfusionCounts {
        ConfusionCounts(truePositives: a.truePositives + b.truePositives, falsePositives: a.falsePositives + b.falsePositives,
                        falseNegatives: a.falseNegatives + b.falseNegatives, trueNegatives: a.trueNegatives + b.trueNegatives)
    }

    private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }
}
