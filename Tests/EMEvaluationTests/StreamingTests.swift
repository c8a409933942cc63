import Testing
import EMVolume
@testable import EMEvaluation

/// A synthetic prediction: smooth blobs of truth, scores that are high near them plus noise.
private func syntheticCase(shape: Coordinate, seed: UInt64) -> (scores: Volume<Float>, truth: Volume<UInt8>) {
    var rng = SeededGenerator(seed: seed)
    var truth = Volume<UInt8>(shape: shape)
    var scores = Volume<Float>(shape: shape)
    let centres = (0..<8).map { _ in (0..<3).map { Double.random(in: 0..<Double(shape[$0]), using: &rng) } }
    for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x {
        let p = [Double(z) * 4, Double(y), Double(x)]
        let d = centres.map { c in ((p[0] - c[0] * 4) * (p[0] - c[0] * 4) + (p[1] - c[1]) * (p[1] - c[1]) + (p[2] - c[2]) * (p[2] - c[2])).squareRoot() }.min()!
        truth[z, y, x] = d < 5 ? 1 : 0
        let signal = 1 / (1 + (d / 5) * (d / 5))
        scores[z, y, x] = Float(min(1, max(0, signal * 0.8 + Double.random(in: -0.25...0.25, using: &rng))))
    } } }
    return (scores, truth)
}

@Suite("Streaming evaluation")
struct StreamingTests {
    @Test func histogramBoundsContainExactValues() throws {
        let (scores, truth) = syntheticCase(shape: Coordinate(12, 48, 64), seed: 1)
        let classes = TruthRule().classify(truth: truth)
        var exact = ExactScores<Float>()
        scores.storage.withUnsafeBufferPointer { s in classes.storage.withUnsafeBufferPointer { exact.append(scores: s, classes: $0) } }
        let reference = exact.summary()
        for bins in [16, 256, 1 << 16] {
            var histogram = ScoreHistogram<Float>(bins: try ScoreBins(count: bins))
            scores.storage.withUnsafeBufferPointer { s in classes.storage.withUnsafeBufferPointer { histogram.add(scores: s, classes: $0) } }
            let binned = histogram.summary()
            #expect(binned.method == .histogram(bins: bins))
            #expect(binned.averagePrecisionRange.contains(reference.averagePrecision, slack: 1e-12))
            #expect(binned.averagePrecisionRange.contains(binned.averagePrecision))
            #expect(abs(binned.averagePrecision - reference.averagePrecision) <= binned.averagePrecisionRange.width + 1e-12)
            #expect(binned.rocAUCRange!.contains(reference.rocAUC!, slack: 1e-12))
            #expect(binned.bestF1Range.contains(reference.bestF1, slack: 1e-12))
            #expect(binned.bestF1 <= reference.bestF1 + 1e-12) // bin edges are among the exact thresholds' decisions
            if bins == 1 << 16 {
                // The documented typical accuracy of the default histogram.
                #expect(binned.averagePrecisionRange.width < 1e-3)
                #expect(abs(binned.averagePrecision - reference.averagePrecision) < 1e-4)
            }
        }
    }

    @Test func streamingResultsDoNotDependOnSlabDepth() throws {
        let (scores, truth) = syntheticCase(shape: Coordinate(10, 40, 50), seed: 2)
        var mask = Volume<UInt8>(shape: scores.shape, repeating: 1)
        for y in 0..<40 { for x in 0..<10 { mask[3, y, x] = 0 } }
        var references: [Int: VolumeEvaluation] = [:] // by exact limit
        for depth in [1, 3, 10] {
            for exactLimit in [0, 1 << 26] {
                let options = EvaluationOptions(threshold: 0.45, exactVoxelLimit: exactLimit, objects: ObjectOptions(connectivity: .faces),
                                                overlaySections: 0, slabDepth: depth)
                let result = try Evaluator.evaluate(prediction: scores, truth: truth, mask: mask, voxelSize: VoxelSize(40, 4, 4), options: options)
                guard let first = references[exactLimit] else { references[exactLimit] = result; continue }
                // Compared as booleans: a failure would otherwise print thousands of curve points.
                let sameCounts = result.voxel.counts == first.voxel.counts
                let sameCurve = result.voxel.curve == first.voxel.curve
                let sameObjects = result.objects == first.objects
                let sameCremi = result.cremi == first.cremi
                #expect(sameCounts && sameCurve && sameObjects && sameCremi, "slab depth \(depth), exact limit \(exactLimit)")
            }
        }
        let exact = try #require(references[1 << 26]), binned = try #require(references[0])
        #expect(exact.voxel.curve.method == .exact && binned.voxel.curve.method == .histogram(bins: 1 << 16))
        #expect(binned.voxel.curve.averagePrecisionRange.contains(exact.voxel.curve.averagePrecision, slack: 1e-12))
        #expect(binned.voxel.counts == exact.voxel.counts)
        #expect(binned.objects!.predictions.count > 1)
    }

    @Test func voxelCountsEqualNaiveLoopWithMaskAndInvalid() throws {
        let (scores, labels) = syntheticCase(shape: Coordinate(6, 30, 30), seed: 3)
        var truth = labels.map { UInt16($0) }
        for x in 0..<30 { truth[2, 5, x] = 7 } // invalid label
        var mask = Volume<UInt8>(shape: scores.shape, repeating: 1)
        for y in 0..<30 { mask[4, y, 3] = 0 }
        let options = EvaluationOptions(threshold: 0.3, truthRule: TruthRule(background: 0, invalid: 7), objects: nil, cremi: nil, overlaySections: 0)
        let result = try Evaluator.evaluate(prediction: scores, truth: truth, mask: mask, options: options)
        var expected = ConfusionCounts()
        var ignored = 0
        for i in 0..<scores.storage.count {
            if mask.storage[i] == 0 || truth.storage[i] == 7 { ignored += 1; continue }
            let predicted = Double(scores.storage[i]) >= 0.3, positive = truth.storage[i] != 0
            switch (predicted, positive) {
            case (true, true): expected.truePositives += 1
            case (true, false): expected.falsePositives += 1
            case (false, true): expected.falseNegatives += 1
            case (false, false): expected.trueNegatives += 1
            }
        }
        #expect(result.voxel.counts == expected)
        #expect(result.voxel.ignoredVoxels == ignored)
        #expect(result.voxel.f1 == expected.f1)
        #expect(result.voxel.curve.positives == expected.positives)
    }

    @Test func objectsFoundAcrossSlabsEqualWholeVolumeComponents() throws {
        let (scores, truth) = syntheticCase(shape: Coordinate(9, 32, 32), seed: 4)
        let options = EvaluationOptions(threshold: 0.5, objects: ObjectOptions(connectivity: .corners, minimumSize: .voxels(1)),
                                        cremi: nil, overlaySections: 0, slabDepth: 2)
        let result = try Evaluator.evaluate(prediction: scores, truth: truth, voxelSize: VoxelSize(40, 4, 4), options: options)
        let binary = scores.map { Double($0) >= 0.5 ? UInt8(1) : 0 }
        let (_, reference) = ConnectedComponents.label(binary, connectivity: .corners, voxelSize: VoxelSize(40, 4, 4))
        let objects = try #require(result.objects)
        #expect(objects.predictions.map(\.voxelCount) == reference.map(\.voxelCount))
        #expect(objects.predictions.map(\.centre) == reference.map(\.centre))
        let (_, truthObjects) = ConnectedComponents.label(truth, connectivity: .corners, voxelSize: VoxelSize(40, 4, 4))
        #expect(objects.truths == truthObjects)
        #expect(objects.truths.count > 1 && objects.predictions.count > 1)
    }

    @Test func integerScoresGiveTheExactCurve() throws {
        let (scores, truth) = syntheticCase(shape: Coordinate(4, 20, 20), seed: 5)
        let bytes = scores.map { UInt8(clampingDouble: Double($0) * 255) }
        let result = try Evaluator.evaluate(prediction: bytes, truth: truth,
                                            options: EvaluationOptions(exactVoxelLimit: 0, objects: nil, cremi: nil, overlaySections: 0))
        var exact = ExactScores<UInt8>()
        for (s, t) in zip(bytes.storage, truth.storage) { exact.append(score: s, positive: t != 0) }
        #expect(result.voxel.curve == exact.summary())
        #expect(result.voxel.curve.method == .exact)
    }

    @Test func badInputsGiveClearErrors() throws {
        let scores = Volume<Float>(shape: Coordinate(2, 3, 4), repeating: 0.5)
        let truth = Volume<UInt8>(shape: Coordinate(2, 3, 5))
        #expect(throws: EvaluationError.self) { try Evaluator.evaluate(prediction: scores, truth: truth) }
        var nan = scores
        nan[1, 2, 3] = .nan
        do {
            _ = try Evaluator.evaluate(prediction: nan, truth: Volume<UInt8>(shape: Coordinate(2, 3, 4)))
            Issue.record("a NaN score must be rejected")
        } catch let error as EvaluationError {
            #expect(error == .nonFiniteScore(what: "prediction", location: "voxel 1,2,3"))
        }
        #expect(throws: EvaluationError.self) {
            try Evaluator.evaluate(prediction: scores, truth: Volume<UInt8>(shape: scores.shape), options: EvaluationOptions(histogramBins: 1))
        }
        #expect(throws: EvaluationError.self) {
            try Evaluator.evaluate(prediction: scores, truth: Volume<UInt8>(shape: scores.shape),
                                   options: EvaluationOptions(region: Box(offset: Coordinate(1, 0, 0), shape: Coordinate(2, 3, 4))))
        }
    }
}
