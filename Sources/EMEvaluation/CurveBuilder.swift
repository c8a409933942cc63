import Foundation

/// Sweeps a decision threshold down over groups of equal scores (or histogram bins) and
/// accumulates everything `CurveSummary` reports, in one pass and constant memory (apart from
/// the sampled points).
///
/// Groups must arrive in strictly decreasing threshold order. When `groupsAreBins` is set, a
/// group may hold several distinct scores and the builder also accumulates the bounds that
/// hold for any arrangement of the scores inside each group (see `CurveSummary`).
struct CurveBuilder {
    let positives: Int
    let negatives: Int
    let method: CurveMethod
    private let groupsAreBins: Bool
    private let step: Double
    private let thresholdStep: Double

    private var truePositives = 0
    private var falsePositives = 0
    private var groupCount = 0
    private var apSum = 0.0
    private var apLowerSum = 0.0
    private var apUpperSum = 0.0
    private var aucTwiceSum = 0.0
    private var aucSlackTwiceSum = 0.0
    private var best: CurvePoint?
    private var bestF1Upper = 0.0
    private var points: [CurvePoint] = []
    private var pendingLast: CurvePoint?

    /// - Parameters:
    ///   - thresholdSpan: highest minus lowest threshold, used to sample points evenly.
    init(positives: Int, negatives: Int, method: CurveMethod, thresholdSpan: Double, samples: Int = 400) {
        self.positives = positives
        self.negatives = negatives
        self.method = method
        if case .histogram = method { groupsAreBins = true } else { groupsAreBins = false }
        step = 1 / Double(samples)
        thresholdStep = thresholdSpan > 0 ? thresholdSpan / Double(samples) : .infinity
    }

    /// Precision and recall after all groups so far, scikit-learn's conventions.
    private func point(threshold: Double) -> CurvePoint {
        let predicted = truePositives + falsePositives
        let precision = predicted == 0 ? 0 : Double(truePositives) / Double(predicted)
        let recall = positives == 0 ? 1 : Double(truePositives) / Double(positives)
        let f1Denominator = predicted + positives
        let f1 = f1Denominator == 0 ? 0 : 2 * Double(truePositives) / Double(f1Denominator)
        let fpr = negatives == 0 ? 0 : Double(falsePositives) / Double(negatives)
        return CurvePoint(threshold: threshold, precision: precision, recall: recall, f1: f1, falsePositiveRate: fpr)
    }

    /// Adds the voxels whose score is `threshold` (or falls in the bin starting there).
    mutating func add(threshold: Double, positives p: Int, negatives n: Int) {
        guard p + n > 0 else { return }
        let tp0 = truePositives, fp0 = falsePositives
        truePositives += p
        falsePositives += n
        groupCount += 1
        let current = point(threshold: threshold)
        let first = groupCount == 1
        // Average precision: (R_n - R_{n-1}) P_n. Without positives it is 0 (`finish`).
        if positives > 0 { apSum += (current.recall - Double(tp0) / Double(positives)) * current.precision }
        // ROC area, trapezoids in counts: n * (2 TP_before + p) / (2 P N).
        aucTwiceSum += Double(n) * Double(2 * tp0 + p)
        if groupsAreBins {
            accumulateBounds(tp0: tp0, fp0: fp0, p: p, n: n)
        }
        if best == nil || current.f1 > best!.f1 { best = current }
        sample(current, first: first)
    }

    /// Bounds on the exact contribution of a bin whose scores may be arranged in any order.
    private mutating func accumulateBounds(tp0: Int, fp0: Int, p: Int, n: Int) {
        aucSlackTwiceSum += Double(n) * Double(p)
        let f1Denominator = tp0 + p + fp0 + positives
        if f1Denominator > 0 { bestF1Upper = max(bestF1Upper, 2 * Double(tp0 + p) / Double(f1Denominator)) }
        guard p > 0, positives > 0 else { return }
        let a = Double(tp0), pp = Double(p)
        // Best case: every positive of the bin gets the precision reached after all of them
        // with only the false positives from earlier bins.
        apUpperSum += pp * (a + pp) / (a + pp + Double(fp0))
        // Worst case: all negatives of the bin come first, so the k-th positive has precision
        // (a + k) / (a + k + c); sum_k = p - c sum_k 1/(a + c + k) >= p - c ln(1 + p/(a + c)).
        let c = Double(fp0 + n)
        apLowerSum += c == 0 ? pp : max(0, pp - c * Foundation.log1p(pp / (a + c)))
    }

    /// Keeps a point when it moved far enough from the last kept one.
    private mutating func sample(_ current: CurvePoint, first: Bool) {
        if first {
            points.append(current)
            pendingLast = nil
            return
        }
        let last = points[points.count - 1]
        if abs(current.recall - last.recall) >= step || abs(current.precision - last.precision) >= step
            || abs(current.threshold - last.threshold) >= thresholdStep || abs(current.falsePositiveRate - last.falsePositiveRate) >= step {
            points.append(current)
            pendingLast = nil
        } else {
            pendingLast = current
        }
    }

    /// The summary of all groups added.
    func finish() -> CurveSummary {
        var sampled = points
        if let pendingLast { sampled.append(pendingLast) }
        if let best, !sampled.contains(best) {
            let index = sampled.firstIndex { $0.threshold < best.threshold } ?? sampled.count
            sampled.insert(best, at: index)
        }
        let ap = positives == 0 ? 0 : max(0, apSum)
        let pairs = 2 * Double(positives) * Double(negatives)
        let auc = pairs == 0 ? nil : aucTwiceSum / pairs
        let apRange: ValueRange
        let aucRange: ValueRange?
        let f1Range: ValueRange
        let bestF1 = best?.f1 ?? 0
        if groupsAreBins {
            apRange = positives == 0 ? ValueRange(lower: 0, upper: 0)
                : ValueRange(lower: min(ap, apLowerSum / Double(positives)), upper: max(ap, apUpperSum / Double(positives)))
            aucRange = auc.map { ValueRange(lower: max(0, $0 - aucSlackTwiceSum / pairs), upper: min(1, $0 + aucSlackTwiceSum / pairs)) }
            f1Range = ValueRange(lower: bestF1, upper: max(bestF1, bestF1Upper))
        } else {
            apRange = ValueRange(lower: ap, upper: ap)
            aucRange = auc.map { ValueRange(lower: $0, upper: $0) }
            f1Range = ValueRange(lower: bestF1, upper: bestF1)
        }
        return CurveSummary(method: method, positives: positives, negatives: negatives, thresholdCount: groupCount,
                            averagePrecision: ap, averagePrecisionRange: apRange, rocAUC: auc, rocAUCRange: aucRange,
                            bestF1: bestF1, bestF1Range: f1Range, bestThreshold: best?.threshold, points: sampled)
    }
}
