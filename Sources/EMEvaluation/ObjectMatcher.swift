/// When a predicted object counts as finding a true object.
public enum MatchCriterion: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Centres at most `tolerance` nanometres apart. Distances and the tolerance are rounded to
    /// the nearest picometre (0.001 nm) before comparing, so a pair exactly at the tolerance
    /// matches despite floating-point rounding of the centres.
    case centreDistance(tolerance: Double)
    /// Intersection over union of the voxel sets at least `minimumIoU` (both rounded to 1e-9).
    case overlap(minimumIoU: Double)

    public var description: String {
        switch self {
        case let .centreDistance(tolerance): return "centre distance <= \(tolerance) nm"
        case let .overlap(minimumIoU): return "IoU >= \(minimumIoU)"
        }
    }
}

/// One predicted object matched to one true object.
public struct ObjectMatch: Hashable, Codable, Sendable {
    /// Index of the prediction in its list.
    public var prediction: Int
    /// Index of the truth in its list.
    public var truth: Int
    /// Distance between the centres in nanometres.
    public var distance: Double
    /// Intersection over union of the two voxel sets.
    public var iou: Double
}

/// A lexicographic assignment cost: unmatched pairs first, then the match quality (distance
/// or 1 - IoU, quantised), then the ranks used to break remaining ties. Integer components
/// keep the Hungarian method's potentials exact.
struct MatchCost: AssignmentCost {
    var unmatched: Int64
    var quality: Int64
    var predictionRank: Int64
    var truthRank: Int64

    static var zero: MatchCost { MatchCost(unmatched: 0, quality: 0, predictionRank: 0, truthRank: 0) }
    static var unreachable: MatchCost { MatchCost(unmatched: .max, quality: 0, predictionRank: 0, truthRank: 0) }

    static func + (a: MatchCost, b: MatchCost) -> MatchCost {
        MatchCost(unmatched: a.unmatched + b.unmatched, quality: a.quality + b.quality,
                  predictionRank: a.predictionRank + b.predictionRank, truthRank: a.truthRank + b.truthRank)
    }

    static func - (a: MatchCost, b: MatchCost) -> MatchCost {
        MatchCost(unmatched: a.unmatched - b.unmatched, quality: a.quality - b.quality,
                  predictionRank: a.predictionRank - b.predictionRank, truthRank: a.truthRank - b.truthRank)
    }

    static func < (a: MatchCost, b: MatchCost) -> Bool {
        (a.unmatched, a.quality, a.predictionRank, a.truthRank) < (b.unmatched, b.quality, b.predictionRank, b.truthRank)
    }
}

/// Matches predicted to true objects one-to-one.
///
/// Definition: among all one-to-one matchings that use only allowed pairs (`MatchCriterion`),
/// take those with the most pairs; among them, those with the smallest total quantised
/// distance (or largest total IoU); remaining ties prefer predictions with higher scores
/// (smaller sum of score ranks; equal scores rank by id) and then true objects earlier in
/// raster order. The Hungarian method solves each cluster of mutually reachable objects.
public enum ObjectMatcher {
    /// An allowed pair and its quantised quality (smaller is better).
    struct Candidate {
        var prediction: Int
        var truth: Int
        var quality: Int64
    }

    static func candidates(predictions: [DetectedObject], truths: [DetectedObject], overlaps: [ObjectPair: Int],
                           criterion: MatchCriterion) -> [Candidate] {
        var result: [Candidate] = []
        switch criterion {
        case let .centreDistance(tolerance):
            let limit = (tolerance * 1000).rounded()
            for (i, p) in predictions.enumerated() {
                for (j, t) in truths.enumerated() {
                    let d = (p.distance(to: t) * 1000).rounded()
                    if d <= limit { result.append(Candidate(prediction: i, truth: j, quality: Int64(d))) }
                }
            }
        case let .overlap(minimumIoU):
            let limit = (minimumIoU * 1e9).rounded()
            for (pair, shared) in overlaps {
                let union = predictions[pair.prediction].voxelCount + truths[pair.truth].voxelCount - shared
                let iou = (Double(shared) / Double(union) * 1e9).rounded()
                if iou >= limit { result.append(Candidate(prediction: pair.prediction, truth: pair.truth, quality: 1_000_000_000 - Int64(iou))) }
            }
            result.sort { ($0.prediction, $0.truth) < ($1.prediction, $1.truth) }
        }
        return result
    }

    /// Ranks of the predictions: 0 for the highest score, ties by id.
    static func scoreRanks(_ predictions: [DetectedObject]) -> [Int] {
        let order = predictions.indices.sorted { (-predictions[$0].score, predictions[$0].id) < (-predictions[$1].score, predictions[$1].id) }
        var rank = [Int](repeating: 0, count: predictions.count)
        for (r, i) in order.enumerated() { rank[i] = r }
        return rank
    }

    /// The matching defined above.
    public static func match(predictions: [DetectedObject], truths: [DetectedObject], overlaps: [ObjectPair: Int] = [:],
                             criterion: MatchCriterion) -> [ObjectMatch] {
        let allowed = candidates(predictions: predictions, truths: truths, overlaps: overlaps, criterion: criterion)
        let rank = scoreRanks(predictions)
        var matches: [ObjectMatch] = []
        for cluster in clusters(allowed, predictionCount: predictions.count) {
            let localPredictions = Array(Set(cluster.map(\.prediction))).sorted { rank[$0] < rank[$1] }
            let localTruths = Array(Set(cluster.map(\.truth))).sorted()
            let rowOf = Dictionary(uniqueKeysWithValues: localPredictions.enumerated().map { ($1, $0) })
            let columnOf = Dictionary(uniqueKeysWithValues: localTruths.enumerated().map { ($1, $0) })
            let size = max(localPredictions.count, localTruths.count)
            let none = MatchCost(unmatched: 1, quality: 0, predictionRank: 0, truthRank: 0)
            var costs = [MatchCost](repeating: none, count: size * size)
            for c in cluster {
                let row = rowOf[c.prediction]!, column = columnOf[c.truth]!
                costs[row * size + column] = MatchCost(unmatched: 0, quality: c.quality, predictionRank: Int64(row), truthRank: Int64(column))
            }
            let assignment = Hungarian.solve(rows: size, columns: size) { costs[$0 * size + $1] }
            for (row, column) in assignment.enumerated() {
                guard let column, row < localPredictions.count, column < localTruths.count,
                      costs[row * size + column].unmatched == 0 else { continue }
                let p = localPredictions[row], t = localTruths[column]
                matches.append(ObjectMatch(prediction: p, truth: t, distance: predictions[p].distance(to: truths[t]),
                                           iou: iou(predictions[p], truths[t], shared: overlaps[ObjectPair(prediction: p, truth: t)] ?? 0)))
            }
        }
        return matches.sorted { ($0.prediction, $0.truth) < ($1.prediction, $1.truth) }
    }

    private static func iou(_ p: DetectedObject, _ t: DetectedObject, shared: Int) -> Double {
        Double(shared) / Double(p.voxelCount + t.voxelCount - shared)
    }

    /// Groups allowed pairs into clusters of objects connected through allowed pairs.
    static func clusters(_ allowed: [Candidate], predictionCount: Int) -> [[Candidate]] {
        var parent = Array(0..<(predictionCount + (allowed.map(\.truth).max().map { $0 + 1 } ?? 0)))
        func find(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        for c in allowed {
            let a = find(c.prediction), b = find(predictionCount + c.truth)
            if a != b { parent[max(a, b)] = min(a, b) }
        }
        var groups: [Int: [Candidate]] = [:]
        for c in allowed { groups[find(c.prediction), default: []].append(c) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// Number of matches when only predictions with score >= each distinct score are kept,
    /// highest score first: (score, predictions with that score, matches so far). The maximum
    /// matching of each prefix is grown by augmenting paths (Kuhn), which gives the same count
    /// as the Hungarian matching of that prefix.
    static func matchCountsBySweep(predictions: [DetectedObject], truths: [DetectedObject], overlaps: [ObjectPair: Int],
                                   criterion: MatchCriterion) -> [(score: Double, added: Int, matched: Int)] {
        let allowed = candidates(predictions: predictions, truths: truths, overlaps: overlaps, criterion: criterion)
        var neighbours = [[Int]](repeating: [], count: predictions.count)
        for c in allowed { neighbours[c.prediction].append(c.truth) }
        var predictionOfTruth = [Int](repeating: -1, count: truths.count)
        var visitStamp = [Int](repeating: -1, count: truths.count)
        var stamp = 0
        func augment(_ p: Int) -> Bool {
            for t in neighbours[p] where visitStamp[t] != stamp {
                visitStamp[t] = stamp
                if predictionOfTruth[t] < 0 || augment(predictionOfTruth[t]) {
                    predictionOfTruth[t] = p
                    return true
                }
            }
            return false
        }
        let rank = scoreRanks(predictions)
        let order = predictions.indices.sorted { rank[$0] < rank[$1] }
        var result: [(score: Double, added: Int, matched: Int)] = []
        var matched = 0
        var start = 0
        while start < order.count {
            var end = start
            let score = predictions[order[start]].score
            while end < order.count && predictions[order[end]].score == score {
                stamp += 1
                if augment(order[end]) { matched += 1 }
                end += 1
            }
            result.append((score, end - start, matched))
            start = end
        }
        return result
    }
}
