import EMLabels
import Foundation
import Testing
import TestSupport
@testable import EMEvaluation

/// scikit-learn's curve, average precision and ROC-AUC for the same scores.
private struct SklearnReference {
    var thresholds: [Double]
    var precision: [Double]
    var recall: [Double]
    var averagePrecision: Double
    var rocAUC: Double?

    init(scores: [Float], labels: [Bool]) throws {
        let dir = try TestEnvironment.temporaryDirectory("sklearn")
        defer { try? FileManager.default.removeItem(at: dir) }
        try RawFile.write(scores, to: dir.appendingPathComponent("scores.f32"))
        try RawFile.write(labels.map { UInt8($0 ? 1 : 0) }, to: dir.appendingPathComponent("labels.u8"))
        let script = """
        import sys, warnings, numpy as np
        from sklearn.metrics import precision_recall_curve, average_precision_score, roc_auc_score
        warnings.simplefilter("ignore")
        d = sys.argv[1]
        s = np.fromfile(d + "/scores.f32", dtype="<f4")
        y = np.fromfile(d + "/labels.u8", dtype=np.uint8)
        p, r, t = precision_recall_curve(y, s)
        t.astype("<f8").tofile(d + "/t.f8"); p.astype("<f8").tofile(d + "/p.f8"); r.astype("<f8").tofile(d + "/r.f8")
        auc = roc_auc_score(y, s) if 0 < y.sum() < len(y) else float("nan")
        np.array([average_precision_score(y, s), auc], dtype="<f8").tofile(d + "/ap.f8")
        """
        try runPython(script, [dir.path])
        thresholds = try RawFile.readDoubles(dir.appendingPathComponent("t.f8"))
        precision = try RawFile.readDoubles(dir.appendingPathComponent("p.f8"))
        recall = try RawFile.readDoubles(dir.appendingPathComponent("r.f8"))
        let scalars = try RawFile.readDoubles(dir.appendingPathComponent("ap.f8"))
        averagePrecision = scalars[0]
        rocAUC = scalars[1].isNaN ? nil : scalars[1]
    }
}

private func exactScores(_ scores: [Float], _ labels: [Bool]) -> ExactScores<Float> {
    var exact = ExactScores<Float>()
    for (s, l) in zip(scores, labels) { exact.append(score: s, positive: l) }
    return exact
}

private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Voxel curves against scikit-learn")
struct VoxelCurveSklearnTests {
    @Test(.needsPython, arguments: [(2000, 20, UInt64(1)), (5000, 1000, 2), (300, 3, 3), (20000, 100_000, 4)])
    func curveAndAveragePrecisionMatchSklearn(count: Int, levels: Int, seed: UInt64) throws {
        let (scores, labels) = randomScoresWithTies(count: count, levels: levels, seed: seed)
        let reference = try SklearnReference(scores: scores, labels: labels)
        var exact = exactScores(scores, labels)
        let curve = exact.precisionRecallCurve()
        #expect(curve.thresholds.count == reference.thresholds.count)
        #expect(curve.precision.count == reference.precision.count)
        #expect(maxDifference(curve.thresholds, reference.thresholds) == 0)
        #expect(maxDifference(curve.precision, reference.precision) <= 1e-9)
        #expect(maxDifference(curve.recall, reference.recall) <= 1e-9)
        #expect(abs(curve.averagePrecision - reference.averagePrecision) <= 1e-9)
        let summary = exact.summary()
        #expect(abs(summary.averagePrecision - reference.averagePrecision) <= 1e-9)
        #expect(summary.thresholdCount == reference.thresholds.count)
        let auc = try #require(summary.rocAUC)
        #expect(abs(auc - reference.rocAUC!) <= 1e-9)
    }

    @Test(.needsPython)
    func degenerateClassesMatchSklearn() throws {
        // No positives: scikit-learn sets recall to 1 and average precision to 0.
        let scores: [Float] = [0.1, 0.5, 0.5, 0.9, -0.0, 0.0]
        for labels in [[Bool](repeating: false, count: 6), [Bool](repeating: true, count: 6)] {
            let reference = try SklearnReference(scores: scores, labels: labels)
            var exact = exactScores(scores, labels)
            let curve = exact.precisionRecallCurve()
            #expect(curve.thresholds == reference.thresholds)
            #expect(curve.precision == reference.precision)
            #expect(curve.recall == reference.recall)
            let summary = exact.summary()
            #expect(summary.averagePrecision == reference.averagePrecision)
            #expect(summary.rocAUC == nil)
        }
    }
}

@Suite("Voxel curves")
struct VoxelCurveTests {
    @Test func radixSortMatchesStandardSort() {
        var rng = SeededGenerator(seed: 11)
        for (count, bits) in [(0, 33), (1, 33), (1000, 33), (5000, 12), (3000, 64)] {
            var keys = (0..<count).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64(64 - bits) }
            let expected = keys.sorted()
            radixSort(&keys, bits: bits)
            #expect(keys == expected)
        }
    }

    @Test func orderKeysPreserveFloatOrder() {
        let values: [Float] = [-.infinity, -1e30, -2, -1, -.leastNonzeroMagnitude, 0, .leastNonzeroMagnitude, 1e-20, 0.5, 1, 3, .infinity]
        for (a, b) in zip(values, values.dropFirst()) { #expect(a.orderKey < b.orderKey) }
        #expect(Float(-0.0).orderKey == Float(0).orderKey)
        for v in values { #expect(Float(orderKey: v.orderKey) == v) }
    }

    @Test func thresholdKeyDecidesLikeComparison() {
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let t = Double.random(in: -0.2...1.2, using: &rng)
            let key = Float.thresholdKey(for: t, scale: 1)
            for _ in 0..<20 {
                let s = Float.random(in: -0.5...1.5, using: &rng)
                #expect((UInt64(s.orderKey) >= key) == (Double(s) >= t))
            }
            let byteKey = UInt8.thresholdKey(for: t, scale: 1.0 / 255)
            for v in [UInt8(0), 1, 50, 127, 128, 200, 254, 255] {
                #expect((UInt64(v.orderKey) >= byteKey) == (Double(v) * (1.0 / 255) >= t))
            }
        }
    }

    @Test func averagePrecisionByHand() {
        // Scores 0.9(+) 0.8(-) 0.7(+) 0.7(-) 0.1(+): P/R steps (1, 1/3), (1/2, 1/3), (1/2, 2/3)
        // with the tie taken together, then (3/5, 1). AP = 1/3*1 + 1/3*1/2 + 1/3*3/5.
        var exact = exactScores([0.9, 0.8, 0.7, 0.7, 0.1], [true, false, true, false, true])
        let summary = exact.summary()
        #expect(abs(summary.averagePrecision - (1.0 / 3 + 1.0 / 6 + 1.0 / 5)) < 1e-15)
        // ROC-AUC by pairs: positives above negatives, ties count one half: (2 + 0.5 + 0) / 6.
        #expect(abs(summary.rocAUC! - 2.5 / 6) < 1e-15)
        // F1 = 2 TP / (TP + FP + P) per threshold: 0.5, 0.4, 4/7, 0.75; best at the lowest.
        #expect(abs(summary.bestF1 - 0.75) < 1e-15)
        #expect(summary.bestThreshold == Double(Float(0.1)))
    }
}
