import EMLabels
import EMVolume

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

/// Maximum-cardinality bipartite matching grown one prediction at a time by augmenting paths
/// (breadth-first, iterative: no recursion however long the paths).
struct AugmentingMatcher {
    private let neighbours: [[Int]]
    private(set) var truthOfPrediction: [Int]
    private(set) var predictionOfTruth: [Int]
    private var seen: [Int]
    private var cameFrom: [Int]
    private var stamp = 0
    private(set) var size = 0

    /// `neighbours[p]`: the truths prediction `p` may match.
    init(neighbours: [[Int]], truthCount: Int) {
        self.neighbours = neighbours
        truthOfPrediction = [Int](repeating: -1, count: neighbours.count)
        predictionOfTruth = [Int](repeating: -1, count: truthCount)
        seen = [Int](repeating: -1, count: truthCount)
        cameFrom = seen
    }

    /// Pairs `p` with `t` when both are free (a greedy start).
    mutating func pairIfFree(_ p: Int, _ t: Int) {
        guard truthOfPrediction[p] < 0, predictionOfTruth[t] < 0 else { return }
        truthOfPrediction[p] = t
        predictionOfTruth[t] = p
        size += 1
    }

    /// Tries to match the unmatched prediction `start`, re-pairing others along an
    /// augmenting path; returns whether the matching grew.
    mutating func augment(from start: Int) -> Bool {
        guard truthOfPrediction[start] < 0 else { return false }
        stamp += 1
        var queue = [start], head = 0
        while head < queue.count {
            let u = queue[head]
            head += 1
            for t in neighbours[u] where seen[t] != stamp {
                seen[t] = stamp
                cameFrom[t] = u
                guard predictionOfTruth[t] >= 0 else {
                    var truth = t
                    while true { // flip the path back to the start
                        let p = cameFrom[truth], previous = truthOfPrediction[p]
                        predictionOfTruth[truth] = p
                        truthOfPrediction[p] = truth
                        if p == start { break }
                        truth = previous
                    }
                    size += 1
                    return true
                }
                queue.append(predictionOfTruth[t])
            }
        }
        return false
    }
}

/// Matches predicted to true objects one-to-one.
///
/// Definition: among all one-to-one matchings that use only allowed pairs (`MatchCriterion`),
/// take those with the most pairs; among them, those with the smallest total quantised
/// distance (or largest total IoU); remaining ties prefer predictions with higher scores
/// (smaller sum of score ranks; equal scores rank by id) and then true objects earlier in
/// raster order. The Hungarian method solves each cluster of mutually reachable objects.
/// A cluster with more than `hungarianLimit` objects on a side (a dense tangle of fragments,
/// where O(n^3) would take too long) keeps the exact number of matches but takes its pairs
/// from a greedy nearest-first start completed by augmenting paths; such clusters are reported.
public enum ObjectMatcher {
    /// Largest cluster side solved by the Hungarian method.
    public static let hungarianLimit = 800

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
            // Truths hashed into cubes of the tolerance: only the 27 cubes around a prediction can hold a match.
            let cell = max(tolerance, 1e-9) * 1.000001
            func key(_ p: WorldPoint) -> [Int] { [p.z, p.y, p.x].map { Int(($0 / cell).rounded(.down)) } }
            var grid: [[Int]: [Int]] = [:]
            for (j, t) in truths.enumerated() { grid[key(t.centre), default: []].append(j) }
            for (i, p) in predictions.enumerated() {
                let k = key(p.centre)
                var near: [Int] = []
                for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
                    near += grid[[k[0] + dz, k[1] + dy, k[2] + dx]] ?? []
                } } }
                for j in near.sorted() {
                    let d = (p.distance(to: truths[j]) * 1000).rounded()
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
        assign(predictions: predictions, truths: truths, overlaps: overlaps, criterion: criterion).matches
    }

    /// The matching, and the sizes (objects on the larger side) of clusters too large for the
    /// Hungarian method.
    static func assign(predictions: [DetectedObject], truths: [DetectedObject], overlaps: [ObjectPair: Int],
                       criterion: MatchCriterion) -> (matches: [ObjectMatch], largeClusters: [Int]) {
        let allowed = candidates(predictions: predictions, truths: truths, overlaps: overlaps, criterion: criterion)
        let rank = scoreRanks(predictions)
        var pairs: [(prediction: Int, truth: Int)] = []
        var largeClusters: [Int] = []
        for cluster in clusters(allowed, predictionCount: predictions.count) {
            let localPredictions = Array(Set(cluster.map(\.prediction))).sorted { rank[$0] < rank[$1] }
            let localTruths = Array(Set(cluster.map(\.truth))).sorted()
            let size = max(localPredictions.count, localTruths.count)
            if size > hungarianLimit {
                largeClusters.append(size)
                pairs += largeClusterPairs(cluster, rank: rank, predictionCount: predictions.count, truthCount: truths.count)
            } else {
                pairs += hungarianPairs(cluster, localPredictions: localPredictions, localTruths: localTruths)
            }
        }
        let matches = pairs.map { p, t in
            ObjectMatch(prediction: p, truth: t, distance: predictions[p].distance(to: truths[t]),
                        iou: iou(predictions[p], truths[t], shared: overlaps[ObjectPair(prediction: p, truth: t)] ?? 0))
        }
        return (matches.sorted { ($0.prediction, $0.truth) < ($1.prediction, $1.truth) }, largeClusters)
    }

    /// The optimal pairs of one cluster (lexicographic costs, see above).
    private static func hungarianPairs(_ cluster: [Candidate], localPredictions: [Int], localTruths: [Int]) -> [(prediction: Int, truth: Int)] {
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
        return assignment.enumerated().compactMap { row, column in
            guard let column, row < localPredictions.count, column < localTruths.count, costs[row * size + column].unmatched == 0 else { return nil }
            return (localPredictions[row], localTruths[column])
        }
    }

    /// Pairs of a cluster too large for the Hungarian method: nearest pairs first, then
    /// augmenting paths up to the maximum number of matches.
    private static func largeClusterPairs(_ cluster: [Candidate], rank: [Int], predictionCount: Int, truthCount: Int) -> [(prediction: Int, truth: Int)] {
        var neighbours = [[Int]](repeating: [], count: predictionCount)
        for c in cluster { neighbours[c.prediction].append(c.truth) }
        var matcher = AugmentingMatcher(neighbours: neighbours, truthCount: truthCount)
        for c in cluster.sorted(by: { ($0.quality, rank[$0.prediction], $0.truth) < ($1.quality, rank[$1.prediction], $1.truth) }) {
            matcher.pairIfFree(c.prediction, c.truth)
        }
        for p in Set(cluster.map(\.prediction)).sorted(by: { rank[$0] < rank[$1] }) { _ = matcher.augment(from: p) }
        return matcher.truthOfPrediction.enumerated().compactMap { p, t in t >= 0 ? (p, t) : nil }
    }

    private static func iou(_ p: DetectedObject, _ t: DetectedObject, shared: Int) -> Double {
        Double(shared) / Double(p.voxelCount + t.voxelCount - shared)
    }

    /// Groups allowed pairs into clusters of objects connected through allowed pairs.
    static func clusters(_ allowed: [Candidate], predictionCount: Int) -> [[Candidate]] {
        var forest = UnionFind(count: predictionCount + (allowed.map(\.truth).max().map { $0 + 1 } ?? 0))
        for c in allowed { forest.union(c.prediction, predictionCount + c.truth) }
        var groups: [Int: [Candidate]] = [:]
        for c in allowed { groups[forest.find(c.prediction), default: []].append(c) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// Number of matches when only predictions with score >= each distinct score are kept,
    /// highest score first: (score, predictions with that score, matches so far). The maximum
    /// matching of each prefix is grown by augmenting paths, which gives the same count as the
    /// Hungarian matching of that prefix.
    static func matchCountsBySweep(predictions: [DetectedObject], truths: [DetectedObject], overlaps: [ObjectPair: Int],
                                   criterion: MatchCriterion) -> [(score: Double, added: Int, matched: Int)] {
        let allowed = candidates(predictions: predictions, truths: truths, overlaps: overlaps, criterion: criterion)
        var neighbours = [[Int]](repeating: [], count: predictions.count)
        for c in allowed { neighbours[c.prediction].append(c.truth) }
        var matcher = AugmentingMatcher(neighbours: neighbours, truthCount: truths.count)
        let rank = scoreRanks(predictions)
        let order = predictions.indices.sorted { rank[$0] < rank[$1] }
        var result: [(score: Double, added: Int, matched: Int)] = []
        var start = 0
        while start < order.count {
            var end = start
            let score = predictions[order[start]].score
            while end < order.count && predictions[order[end]].score == score {
                _ = matcher.augment(from: order[end])
                end += 1
            }
            result.append((score, end - start, matcher.size))
            start = end
        }
        return result
    }
}
