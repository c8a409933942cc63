import Testing
import EMLabels
import EMVolume
@testable import EMEvaluation

/// Components by breadth-first flood fill: the independent reference for the union-find labeler.
private func floodFillLabels(_ mask: Volume<UInt8>, connectivity: Connectivity) -> [Int] {
    let s = mask.shape
    var labels = [Int](repeating: 0, count: mask.storage.count)
    var next = 0
    var offsets: [Coordinate] = []
    for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
        let manhattan = abs(dz) + abs(dy) + abs(dx)
        if manhattan == 0 || (connectivity == .faces && manhattan > 1) { continue }
        offsets.append(Coordinate(dz, dy, dx))
    } } }
    for start in 0..<labels.count where mask.storage[start] != 0 && labels[start] == 0 {
        next += 1
        labels[start] = next
        var queue = [start]
        while let i = queue.popLast() {
            let c = Coordinate(i / (s.y * s.x), (i / s.x) % s.y, i % s.x)
            for o in offsets {
                let n = c + o
                guard Box(shape: s).contains(n) else { continue }
                let j = mask.index(n.z, n.y, n.x)
                if mask.storage[j] != 0 && labels[j] == 0 { labels[j] = next; queue.append(j) }
            }
        }
    }
    return labels
}

private func randomMask(_ shape: Coordinate, density: Double, seed: UInt64) -> Volume<UInt8> {
    var rng = SeededGenerator(seed: seed)
    var mask = Volume<UInt8>(shape: shape)
    for i in 0..<mask.storage.count { mask.storage[i] = Double.random(in: 0..<1, using: &rng) < density ? 1 : 0 }
    return mask
}

private func object(_ id: Int, at centre: WorldPoint, score: Double = 1, voxels: Int = 1) -> DetectedObject {
    DetectedObject(id: id, voxelCount: voxels, volume: Double(voxels), centre: centre,
                   box: Box(shape: Coordinate(1, 1, 1)), score: score)
}

@Suite("Connected components")
struct ConnectedComponentTests {
    @Test(arguments: [Connectivity.faces, .corners])
    func labelsEqualFloodFill(connectivity: Connectivity) {
        for (seed, density) in [(UInt64(1), 0.2), (2, 0.35), (3, 0.5), (4, 0.05)] {
            let mask = randomMask(Coordinate(7, 13, 17), density: density, seed: seed)
            let (labels, objects) = ConnectedComponents.label(mask, connectivity: connectivity)
            let reference = floodFillLabels(mask, connectivity: connectivity)
            // Flood fill numbers components by first voxel, as the labeler promises.
            #expect(labels.storage.map(Int.init) == reference)
            #expect(objects.count == (reference.max() ?? 0))
            for o in objects {
                #expect(o.voxelCount == reference.count { $0 == o.id })
            }
        }
    }

    @Test func centresAndSizesUseAnisotropicVoxels() {
        var mask = Volume<UInt8>(box: Box(offset: Coordinate(10, 0, 0), shape: Coordinate(4, 4, 4)))
        mask[0, 1, 1] = 1; mask[1, 1, 1] = 1; mask[1, 1, 2] = 1 // one object
        mask[3, 3, 3] = 1 // another, diagonal to nothing
        let size = VoxelSize(40, 4, 4)
        let (_, objects) = ConnectedComponents.label(mask, connectivity: .faces, voxelSize: size, origin: WorldPoint(0, 100, 0))
        #expect(objects.count == 2)
        #expect(objects[0].voxelCount == 3)
        #expect(objects[0].volume == 3 * 640)
        // z indices 10, 11, 11 -> mean 32/3; y 1; x 1, 1, 2 -> 4/3.
        #expect(abs(objects[0].centre.z - 32.0 / 3 * 40) < 1e-9)
        #expect(abs(objects[0].centre.y - (100 + 4)) < 1e-9)
        #expect(abs(objects[0].centre.x - 4.0 / 3 * 4) < 1e-9)
        #expect(objects[0].box == Box(begin: Coordinate(10, 1, 1), end: Coordinate(12, 2, 3)))
        #expect(objects[1].centre == WorldPoint(13 * 40, 100 + 12, 12))
    }

    @Test func diagonalNeighboursJoinOnlyWithCorners() {
        var mask = Volume<UInt8>(shape: Coordinate(2, 2, 2))
        mask[0, 0, 0] = 1; mask[1, 1, 1] = 1
        #expect(ConnectedComponents.label(mask, connectivity: .faces).objects.count == 2)
        #expect(ConnectedComponents.label(mask, connectivity: .corners).objects.count == 1)
    }
}

@Suite("Hungarian assignment")
struct HungarianTests {
    private func bruteForce(_ cost: [[Double]]) -> Double {
        let n = cost.count, m = cost[0].count
        // Assign each of the smaller side to distinct elements of the larger.
        let (rows, columns) = n <= m ? (n, m) : (m, n)
        func c(_ r: Int, _ col: Int) -> Double { n <= m ? cost[r][col] : cost[col][r] }
        var best = Double.infinity
        var used = [Bool](repeating: false, count: columns)
        func search(_ r: Int, _ total: Double) {
            if r == rows { best = min(best, total); return }
            for col in 0..<columns where !used[col] {
                used[col] = true
                search(r + 1, total + c(r, col))
                used[col] = false
            }
        }
        search(0, 0)
        return best
    }

    @Test func matchesBruteForceOnRandomMatrices() {
        var rng = SeededGenerator(seed: 42)
        for trial in 0..<300 {
            let n = Int.random(in: 1...6, using: &rng), m = Int.random(in: 1...6, using: &rng)
            let integer = trial % 2 == 0 // integer costs with many ties, or real ones with negatives
            let cost = (0..<n).map { _ in (0..<m).map { _ in
                integer ? Double(Int.random(in: 0...3, using: &rng)) : Double.random(in: -5...10, using: &rng)
            } }
            let assignment = Hungarian.solve(rows: n, columns: m) { cost[$0][$1] }
            let assigned = assignment.enumerated().compactMap { row, column in column.map { (row, $0) } }
            #expect(assigned.count == min(n, m))
            #expect(Set(assigned.map(\.1)).count == assigned.count)
            let total = assigned.map { cost[$0.0][$0.1] }.reduce(0, +)
            #expect(abs(total - bruteForce(cost)) < 1e-9)
        }
    }

    @Test func integerCostsAreExact() {
        let cost: [[Int64]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let assignment = Hungarian.solve(rows: 3, columns: 3) { cost[$0][$1] }
        #expect(assignment == [1, 0, 2]) // 1 + 2 + 2 = 5, the unique optimum
    }
}

@Suite("Object matching")
struct ObjectMatchingTests {
    @Test func exactlyAtTheToleranceMatchesAndJustBeyondDoesNot() {
        let truth = [object(1, at: WorldPoint(0, 0, 0))]
        // 3-4-5 triangle scaled: distance exactly 200 nm, computed with rounding in the centres.
        let atTolerance = [object(1, at: WorldPoint(0, 120, 160))]
        let beyond = [object(1, at: WorldPoint(0, 120, 160.002))]
        let within = [object(1, at: WorldPoint(0, 120, 160.0004))] // 200.0003 nm rounds to 200.000
        let criterion = MatchCriterion.centreDistance(tolerance: 200)
        #expect(ObjectMatcher.match(predictions: atTolerance, truths: truth, criterion: criterion).count == 1)
        #expect(ObjectMatcher.match(predictions: beyond, truths: truth, criterion: criterion).isEmpty)
        #expect(ObjectMatcher.match(predictions: within, truths: truth, criterion: criterion).count == 1)
        // Anisotropic voxels: one section apart at 40 nm with tolerance 40 matches.
        let a = object(1, at: VoxelSize(40, 4, 4).world(Coordinate(3, 10, 10)))
        let b = object(1, at: VoxelSize(40, 4, 4).world(Coordinate(4, 10, 10)))
        #expect(ObjectMatcher.match(predictions: [a], truths: [b], criterion: .centreDistance(tolerance: 40)).count == 1)
        #expect(ObjectMatcher.match(predictions: [a], truths: [b], criterion: .centreDistance(tolerance: 39.99)).isEmpty)
    }

    @Test func tiesPreferHigherScoreThenEarlierTruth() {
        let truth = [object(1, at: WorldPoint(0, 0, 0))]
        // Two predictions equally far: the higher-scored one is matched, whatever the order.
        let predictions = [object(1, at: WorldPoint(0, 0, 50), score: 0.6), object(2, at: WorldPoint(0, 0, -50), score: 0.9)]
        let matches = ObjectMatcher.match(predictions: predictions, truths: truth, criterion: .centreDistance(tolerance: 100))
        #expect(matches.map(\.prediction) == [1])
        // Equal scores: the smaller id wins.
        let equal = [object(1, at: WorldPoint(0, 0, 50), score: 0.5), object(2, at: WorldPoint(0, 0, -50), score: 0.5)]
        #expect(ObjectMatcher.match(predictions: equal, truths: truth, criterion: .centreDistance(tolerance: 100)).map(\.prediction) == [0])
        // One prediction equally far from two truths: the earlier truth is matched.
        let truths = [object(1, at: WorldPoint(0, 0, 50)), object(2, at: WorldPoint(0, 0, -50))]
        let single = [object(1, at: WorldPoint(0, 0, 0))]
        #expect(ObjectMatcher.match(predictions: single, truths: truths, criterion: .centreDistance(tolerance: 100)).map(\.truth) == [0])
    }

    @Test func oneToManyMatchesOnlyOnce() {
        // One truth, three predictions in range: one TP, two FP.
        let truth = [object(1, at: WorldPoint(0, 0, 0))]
        let predictions = [object(1, at: WorldPoint(0, 0, 30), score: 0.7), object(2, at: WorldPoint(0, 0, 10), score: 0.8),
                           object(3, at: WorldPoint(0, 10, 0), score: 0.9)]
        let matches = ObjectMatcher.match(predictions: predictions, truths: truth, criterion: .centreDistance(tolerance: 100))
        #expect(matches.count == 1)
        // Closest distance wins over score (distances 30, 10, 10: the two at 10 tie, higher score wins).
        #expect(matches[0].prediction == 2)
        // One prediction between two truths, and a second prediction that only reaches one of
        // them: maximising the number of matches assigns both, even though the first
        // prediction is closer to the truth the second one needs.
        let truths = [object(1, at: WorldPoint(0, 0, 0)), object(2, at: WorldPoint(0, 0, 100))]
        let crowded = [object(1, at: WorldPoint(0, 0, 10), score: 0.9), object(2, at: WorldPoint(0, 0, -60), score: 0.5)]
        let both = ObjectMatcher.match(predictions: crowded, truths: truths, criterion: .centreDistance(tolerance: 95))
        #expect(both.map { [$0.prediction, $0.truth] } == [[0, 1], [1, 0]])
    }

    @Test func overlapCriterionUsesIoU() {
        let predictions = [object(1, at: .zero, voxels: 10), object(2, at: .zero, voxels: 4)]
        let truths = [object(1, at: .zero, voxels: 10)]
        // Prediction 0 shares 5 voxels: IoU 5/15; prediction 1 shares 4: IoU 4/10.
        let overlaps = [ObjectPair(prediction: 0, truth: 0): 5, ObjectPair(prediction: 1, truth: 0): 4]
        let matches = ObjectMatcher.match(predictions: predictions, truths: truths, overlaps: overlaps, criterion: .overlap(minimumIoU: 0.3))
        #expect(matches.map(\.prediction) == [1])
        #expect(abs(matches[0].iou - 0.4) < 1e-12)
        #expect(ObjectMatcher.match(predictions: predictions, truths: truths, overlaps: overlaps, criterion: .overlap(minimumIoU: 0.4)).count == 1)
        #expect(ObjectMatcher.match(predictions: predictions, truths: truths, overlaps: overlaps, criterion: .overlap(minimumIoU: 0.41)).isEmpty)
    }

    @Test func sweepCountsEqualHungarianAtEveryThreshold() {
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<40 {
            let predictions = (0..<Int.random(in: 0...12, using: &rng)).map { i in
                object(i + 1, at: WorldPoint(0, Double.random(in: 0...300, using: &rng), Double.random(in: 0...300, using: &rng)),
                       score: Double(Int.random(in: 1...5, using: &rng)) / 5)
            }
            let truths = (0..<Int.random(in: 0...10, using: &rng)).map { i in
                object(i + 1, at: WorldPoint(0, Double.random(in: 0...300, using: &rng), Double.random(in: 0...300, using: &rng)))
            }
            let criterion = MatchCriterion.centreDistance(tolerance: 60)
            let sweep = ObjectMatcher.matchCountsBySweep(predictions: predictions, truths: truths, overlaps: [:], criterion: criterion)
            for step in sweep {
                let kept = predictions.filter { $0.score >= step.score }
                #expect(ObjectMatcher.match(predictions: kept, truths: truths, criterion: criterion).count == step.matched)
            }
            #expect(sweep.map(\.added).reduce(0, +) == predictions.count)
        }
    }

    @Test func objectMetricsFilterBySizeAndSweep() {
        // Truth: two objects; predictions: a big hit, a tiny hit (removed by the size filter),
        // a false positive.
        let truths = [object(1, at: WorldPoint(0, 0, 0), voxels: 20), object(2, at: WorldPoint(0, 0, 1000), voxels: 20)]
        let predictions = [object(1, at: WorldPoint(0, 0, 5), score: 0.9, voxels: 15), object(2, at: WorldPoint(0, 0, 1005), score: 0.8, voxels: 2),
                           object(3, at: WorldPoint(0, 500, 0), score: 0.95, voxels: 30)]
        let collected = CollectedObjects(predictions: predictions, truths: truths, overlaps: [:])
        let metrics = ObjectMetrics(objects: collected, options: ObjectOptions(minimumSize: .voxels(5)), componentThreshold: 0.5)
        #expect(metrics.removedSmall == 1)
        #expect(metrics.counts == ConfusionCounts(truePositives: 1, falsePositives: 1, falseNegatives: 1))
        #expect(metrics.f1 == 0.5)
        // Sweep: 0.95 (FP): P 0, R 0; 0.9 (TP): P 1/2, R 1/2. AP = 1/2 * 1/2.
        #expect(metrics.curve.averagePrecision == 0.25)
        #expect(metrics.curve.rocAUC == nil)
    }
}

@Suite("Large object clusters")
struct LargeClusterTests {
    @Test func chainBeyondTheHungarianLimitKeepsTheMaximumNumberOfMatches() {
        // Truth i at x = 100 i; prediction i at x = 100 i + 60: within 70 nm of truth i (60)
        // and of truth i + 1 (40). Nearest-first pairing takes prediction i with truth i + 1,
        // leaving truth 0 and the last prediction unmatched; augmenting paths must repair that
        // into the perfect matching.
        let n = ObjectMatcher.hungarianLimit + 50
        let truths = (0..<n).map { object($0 + 1, at: WorldPoint(0, 0, Double($0) * 100)) }
        var predictions = (0..<n - 1).map { object($0 + 1, at: WorldPoint(0, 0, Double($0) * 100 + 60), score: 0.9) }
        predictions.append(object(n, at: WorldPoint(0, 0, Double(n - 1) * 100 - 60), score: 0.9)) // reaches only the last truth
        let (matches, large) = ObjectMatcher.assign(predictions: predictions, truths: truths, overlaps: [:],
                                                    criterion: .centreDistance(tolerance: 70))
        #expect(large == [n])
        #expect(matches.count == n)
        #expect(Set(matches.map(\.truth)).count == n && Set(matches.map(\.prediction)).count == n)
        #expect(matches.allSatisfy { $0.distance <= 70 })
    }

    @Test func gridCandidatesEqualAllPairs() {
        var rng = SeededGenerator(seed: 21)
        let point = { WorldPoint(Double.random(in: -500...500, using: &rng), Double.random(in: -500...500, using: &rng), Double.random(in: -500...500, using: &rng)) }
        let predictions = (0..<150).map { object($0 + 1, at: point()) }
        let truths = (0..<120).map { object($0 + 1, at: point()) }
        let found = ObjectMatcher.candidates(predictions: predictions, truths: truths, overlaps: [:], criterion: .centreDistance(tolerance: 130))
        var expected: [[Int]] = []
        for (i, p) in predictions.enumerated() {
            for (j, t) in truths.enumerated() where (p.distance(to: t) * 1000).rounded() <= 130_000 { expected.append([i, j]) }
        }
        #expect(found.map { [$0.prediction, $0.truth] } == expected)
        #expect(expected.count > 50)
    }
}
