import EMLabels

/// The scores and truth classes of every counted voxel (or object), kept to sweep the
/// threshold over each distinct score: the exact curve of scikit-learn.
///
/// Memory: 8 bytes per counted item. Sorting is a linear-time radix sort on 33-bit keys
/// (the score's order key and the class bit). Scores must be finite (the evaluator checks).
public struct ExactScores<S: ScoreValue>: Sendable {
    private var keys: [UInt64] = []
    private var isSorted = true
    /// Factor from stored score values to reported thresholds.
    public let scale: Double

    /// Creates an empty set; thresholds are reported as `value * scale`.
    public init(scale: Double = S.defaultScale) {
        self.scale = scale
    }

    /// Number of items added.
    public var count: Int { keys.count }

    /// Adds one scored item.
    public mutating func append(score: S, positive: Bool) {
        keys.append(UInt64(score.orderKey) << 1 | (positive ? 1 : 0))
        isSorted = false
    }

    /// Adds the voxels of a block whose class is not `ignored`.
    public mutating func append(scores: UnsafeBufferPointer<S>, classes: UnsafeBufferPointer<UInt8>) {
        precondition(scores.count == classes.count, "score and class buffers differ in length")
        keys.reserveCapacity(keys.count + scores.count)
        for i in 0..<scores.count where classes[i] != VoxelClass.ignored.rawValue {
            keys.append(UInt64(scores[i].orderKey) << 1 | UInt64(classes[i]))
        }
        isSorted = false
    }

    /// Sorts the keys in place (once).
    private mutating func sort() {
        if !isSorted { radixSort(&keys, bits: 33) }
        isSorted = true
    }

    /// Calls `body(threshold, positives, negatives)` for each distinct score, highest first.
    private mutating func forEachGroup(_ body: (Double, Int, Int) -> Void) {
        sort()
        keys.withUnsafeBufferPointer { sorted in
            var end = sorted.count
            while end > 0 {
                let value = sorted[end - 1] >> 1
                var start = end - 1
                var positives = Int(sorted[start] & 1)
                while start > 0 && sorted[start - 1] >> 1 == value {
                    start -= 1
                    positives += Int(sorted[start] & 1)
                }
                body(threshold(ofKey: UInt32(value)), positives, end - start - positives)
                end = start
            }
        }
    }

    private func threshold(ofKey key: UInt32) -> Double { S(orderKey: key).doubleValue * scale }

    /// Counts of positives and negatives.
    private var classTotals: (positives: Int, negatives: Int) {
        var positives = 0
        for key in keys { positives &+= Int(key & 1) }
        return (positives, keys.count - positives)
    }

    /// The summary of the exact threshold sweep.
    public mutating func summary() -> CurveSummary {
        sort()
        let totals = classTotals
        let span = spanOfThresholds
        var builder = CurveBuilder(positives: totals.positives, negatives: totals.negatives, method: .exact, thresholdSpan: span)
        forEachGroup { builder.add(threshold: $0, positives: $1, negatives: $2) }
        return builder.finish()
    }

    /// The full precision-recall curve in scikit-learn's layout.
    public mutating func precisionRecallCurve() -> PrecisionRecallCurve {
        let totals = classTotals
        var thresholds: [Double] = [], precision: [Double] = [], recall: [Double] = []
        var tp = 0, fp = 0
        forEachGroup { threshold, p, n in
            tp += p
            fp += n
            thresholds.append(threshold)
            precision.append(Double(tp) / Double(tp + fp))
            recall.append(totals.positives == 0 ? 1 : Double(tp) / Double(totals.positives))
        }
        return PrecisionRecallCurve(thresholds: thresholds.reversed(), precision: precision.reversed() + [1],
                                    recall: recall.reversed() + [0])
    }

    /// Highest minus lowest threshold (keys sorted).
    private var spanOfThresholds: Double {
        guard let low = keys.first, let high = keys.last else { return 0 }
        return threshold(ofKey: UInt32(high >> 1)) - threshold(ofKey: UInt32(low >> 1))
    }
}

/// A precision-recall curve laid out as scikit-learn's `precision_recall_curve` returns it:
/// `thresholds` increasing (every distinct score), `precision[i]` and `recall[i]` for the
/// decision `score >= thresholds[i]`, and a final point precision 1, recall 0 without a
/// threshold. Recall is 1 everywhere when there are no positives.
public struct PrecisionRecallCurve: Hashable, Codable, Sendable {
    /// Distinct scores, increasing.
    public var thresholds: [Double]
    /// Precision per threshold, then 1.
    public var precision: [Double]
    /// Recall per threshold, then 0.
    public var recall: [Double]

    /// Creates a curve from its arrays.
    public init(thresholds: [Double], precision: [Double], recall: [Double]) {
        self.thresholds = thresholds
        self.precision = precision
        self.recall = recall
    }

    /// `sum_i (recall[i] - recall[i+1]) * precision[i]`: scikit-learn's average precision.
    public var averagePrecision: Double {
        var sum = 0.0
        for i in 0..<thresholds.count { sum += (recall[i] - recall[i + 1]) * precision[i] }
        return max(0, sum)
    }
}
