/// Counts of positive and negative voxels per score bin, accumulated block by block in
/// constant memory: the streaming alternative to `ExactScores`.
///
/// Integer scores (`UInt8`, `UInt16`) get one bin per value, so their sweep is exact. Float
/// scores are binned by `ScoreBins` (2^16 bins over [0, 1] by default); the sweep then runs
/// over bin edges and `CurveSummary`'s ranges bound the exact values (see there). With 2^16
/// bins the width of the average-precision range is typically below 1e-4 for real predictions;
/// it is reported with every result rather than assumed.
public struct ScoreHistogram<S: ScoreValue>: Sendable {
    /// The bins (for float scores).
    public let bins: ScoreBins
    /// Factor from stored score values to reported thresholds (integer scores).
    public let scale: Double
    private var positives: [Int]
    private var negatives: [Int]

    /// Creates an empty histogram; `bins` is used only for float scores.
    public init(bins: ScoreBins, scale: Double = S.defaultScale) {
        self.bins = bins
        self.scale = scale
        let count = S.distinctValues ?? bins.count
        positives = [Int](repeating: 0, count: count)
        negatives = [Int](repeating: 0, count: count)
    }

    /// True when every distinct score has its own bin (integer scores).
    public var isExact: Bool { S.distinctValues != nil }

    /// Adds the voxels of a block whose class is not `ignored`.
    public mutating func add(scores: UnsafeBufferPointer<S>, classes: UnsafeBufferPointer<UInt8>) {
        _ = tally(scores: scores, classes: classes, decisionKey: .max)
    }

    /// What one pass over a block found besides the histogram counts.
    public struct Tally: Sendable {
        /// Decisions "score >= threshold" against the classes.
        public var counts = ConfusionCounts()
        /// Ignored voxels.
        public var ignored = 0
        /// Index of the first NaN or infinite score, nil when all are finite.
        public var firstNonFinite: Int?
    }

    /// Adds a block and, in the same pass, counts the decisions `orderKey >= decisionKey`
    /// (see `ScoreValue.thresholdKey`). After a block with a non-finite score (reported in the
    /// result) the histogram is not meaningful; callers stop with an error.
    public mutating func tally(scores: UnsafeBufferPointer<S>, classes: UnsafeBufferPointer<UInt8>, decisionKey: UInt64) -> Tally {
        precondition(scores.count == classes.count, "score and class buffers differ in length")
        let bins = self.bins
        var tp = 0, fp = 0, fn = 0, tn = 0, ignored = 0
        var allFinite = true
        positives.withUnsafeMutableBufferPointer { pos in
            negatives.withUnsafeMutableBufferPointer { neg in
                for i in 0..<scores.count {
                    let c = classes[i]
                    if c == VoxelClass.ignored.rawValue { ignored += 1; continue }
                    let score = scores[i]
                    allFinite = allFinite && score.isFiniteScore
                    let predicted = UInt64(score.orderKey) >= decisionKey
                    let b = score.bin(in: bins)
                    if c == VoxelClass.positive.rawValue {
                        pos[b] += 1
                        if predicted { tp += 1 } else { fn += 1 }
                    } else {
                        neg[b] += 1
                        if predicted { fp += 1 } else { tn += 1 }
                    }
                }
            }
        }
        var result = Tally()
        if !allFinite {
            result.firstNonFinite = (0..<scores.count).first { classes[$0] != VoxelClass.ignored.rawValue && !scores[$0].isFiniteScore }
        }
        result.counts = ConfusionCounts(truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn)
        result.ignored = ignored
        return result
    }

    /// Adds the counts of another histogram with the same bins.
    public mutating func merge(_ other: ScoreHistogram<S>) {
        precondition(other.bins == bins && other.positives.count == positives.count, "histograms have different bins")
        positives.withUnsafeMutableBufferPointer { p in
            negatives.withUnsafeMutableBufferPointer { n in
                other.positives.withUnsafeBufferPointer { op in
                    other.negatives.withUnsafeBufferPointer { on in
                        for i in 0..<p.count {
                            p[i] += op[i]
                            n[i] += on[i]
                        }
                    }
                }
            }
        }
    }

    /// Voxels counted so far (positive, negative).
    public var totals: (positives: Int, negatives: Int) {
        (positives.reduce(0, +), negatives.reduce(0, +))
    }

    /// The threshold a bin stands for: its lower edge, or the integer score it holds.
    public func threshold(ofBin k: Int) -> Double {
        isExact ? S(orderKey: UInt32(k)).doubleValue * scale : bins.lowerEdge(k)
    }

    /// The summary of the sweep over bins, highest first.
    public func summary() -> CurveSummary {
        let (p, n) = totals
        let occupied = (0..<positives.count).filter { positives[$0] + negatives[$0] > 0 }
        let span = occupied.isEmpty ? 0 : threshold(ofBin: occupied.last!) - threshold(ofBin: occupied.first!)
        var builder = CurveBuilder(positives: p, negatives: n, method: isExact ? .exact : .histogram(bins: bins.count), thresholdSpan: span)
        for k in occupied.reversed() {
            builder.add(threshold: threshold(ofBin: k), positives: positives[k], negatives: negatives[k])
        }
        return builder.finish()
    }
}
