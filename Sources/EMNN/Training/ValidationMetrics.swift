/// Voxel metrics of foreground probabilities against a 0/1 mask: average precision (PR-AUC),
/// the best F1 over thresholds and F1 at 0.5.
///
/// Probabilities are counted in `bins` equal histogram bins, so thresholds are bin edges and
/// ties within a bin share one precision-recall point (exact for probabilities on bin centres).
public struct ValidationMetrics: Codable, Equatable, Sendable {
    /// Average precision: `sum (R_k - R_{k-1}) P_k` over thresholds from high to low.
    public var averagePrecision: Double
    /// The best F1 over all bin thresholds.
    public var bestF1: Double
    /// The threshold giving `bestF1` (predict foreground when probability >= threshold).
    public var bestThreshold: Double
    /// F1 at threshold 0.5.
    public var f1AtHalf: Double
    /// Foreground voxels in the mask.
    public var positives: Int
    /// The validation loss (filled in by the caller; 0 when not computed).
    public var loss: Double

    /// Computes the metrics of `probabilities` against `labels` (nonzero = foreground).
    public init(probabilities: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>, bins: Int = 1000, loss: Double = 0) {
        precondition(probabilities.count == labels.count, "probabilities and labels differ in count")
        var positive = [Int](repeating: 0, count: bins), negative = positive
        for i in 0..<probabilities.count {
            let bin = min(max(Int(probabilities[i] * Float(bins)), 0), bins - 1)
            if labels[i] != 0 { positive[bin] += 1 } else { negative[bin] += 1 }
        }
        let total = positive.reduce(0, +)
        var truePositives = 0, predicted = 0, precisionSum = 0.0, best = (f1: 0.0, threshold: 1.0), atHalf = 0.0
        for bin in stride(from: bins - 1, through: 0, by: -1) {
            truePositives += positive[bin]
            predicted += positive[bin] + negative[bin]
            guard predicted > 0, total > 0 else { continue }
            let precision = Double(truePositives) / Double(predicted), recall = Double(truePositives) / Double(total)
            precisionSum += Double(positive[bin]) / Double(total) * precision
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            let threshold = Double(bin) / Double(bins)
            if f1 > best.f1 { best = (f1, threshold) }
            if bin == bins / 2 { atHalf = f1 }
        }
        averagePrecision = precisionSum
        bestF1 = best.f1
        bestThreshold = best.threshold
        f1AtHalf = atHalf
        positives = total
        self.loss = loss
    }
}
