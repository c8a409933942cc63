import Foundation
import Testing
import EMLabels
import EMVolume
import TestSupport
@testable import EMEvaluation

/// Adds random ellipsoidal blobs (radii in nm) whose centres lie in `region` (nm, z y x ranges).
private func addBlobs(to volume: inout Volume<UInt8>, voxelSize: VoxelSize, count: Int, region: [ClosedRange<Double>],
                      radius: ClosedRange<Double>, rng: inout SeededGenerator) {
    let size = voxelSize.components
    for _ in 0..<count {
        let centre = region.map { Double.random(in: $0, using: &rng) }
        let radii = (0..<3).map { _ in Double.random(in: radius, using: &rng) }
        let low = (0..<3).map { max(0, Int(((centre[$0] - radii[$0]) / size[$0]).rounded(.down))) }
        let high = (0..<3).map { min(volume.shape[$0] - 1, Int(((centre[$0] + radii[$0]) / size[$0]).rounded(.up))) }
        guard low[0] <= high[0], low[1] <= high[1], low[2] <= high[2] else { continue }
        for z in low[0]...high[0] { for y in low[1]...high[1] { for x in low[2]...high[2] {
            let dz = (Double(z) * size[0] - centre[0]) / radii[0]
            let dy = (Double(y) * size[1] - centre[1]) / radii[1]
            let dx = (Double(x) * size[2] - centre[2]) / radii[2]
            if dz * dz + dy * dy + dx * dx <= 1 { volume[z, y, x] = 1 }
        } } }
    }
}

/// Distance of every voxel to the nearest foreground voxel by brute force.
private func bruteForceDistances(_ foreground: [Bool], shape: Coordinate, voxelSize: VoxelSize) -> [Double] {
    let points = foreground.indices.filter { foreground[$0] }.map { Coordinate($0 / (shape.y * shape.x), ($0 / shape.x) % shape.y, $0 % shape.x) }
    return (0..<shape.product).map { i in
        let c = Coordinate(i / (shape.y * shape.x), (i / shape.x) % shape.y, i % shape.x)
        return points.map { voxelSize.distance($0, c) }.min() ?? .infinity
    }
}

@Suite("CREMI cleft metrics")
struct CremiTests {
    @Test func distanceTransformEqualsBruteForce() {
        var rng = SeededGenerator(seed: 3)
        for (shape, size) in [(Coordinate(5, 9, 11), VoxelSize(40, 4, 4)), (Coordinate(1, 1, 17), VoxelSize(1, 1, 3.5)),
                              (Coordinate(6, 7, 3), VoxelSize(2.5, 7, 1))] {
            for density in [0.02, 0.2] {
                let foreground = (0..<shape.product).map { _ in Double.random(in: 0..<1, using: &rng) < density }
                let map = DistanceMap(foreground: foreground, shape: shape, voxelSize: size)
                let reference = bruteForceDistances(foreground, shape: shape, voxelSize: size)
                for i in 0..<shape.product {
                    if reference[i].isInfinite { #expect(map.distance(at: i).isInfinite) } else {
                        #expect(abs(map.distance(at: i) - reference[i]) <= 1e-9 * max(1, reference[i]))
                    }
                }
            }
        }
    }

    @Test(.needsPython, arguments: [UInt64(1), 2, 3])
    func metricsEqualScipyImplementationOfCremiDefinitions(seed: UInt64) throws {
        // 480 x 800 x 800 nm. Truth and prediction blobs share one corner; a truth blob far
        // down in y has no prediction near it (false negatives), a prediction blob far right
        // has no truth near it (false positives).
        let shape = Coordinate(12, 200, 200), size = VoxelSize(40, 4, 4)
        var rng = SeededGenerator(seed: seed)
        var truth = Volume<UInt8>(shape: shape), predicted = Volume<UInt8>(shape: shape)
        let z = 0.0...440.0, near = [z, 0.0...200.0, 0.0...300.0]
        addBlobs(to: &truth, voxelSize: size, count: 3, region: near, radius: 20...80, rng: &rng)
        addBlobs(to: &truth, voxelSize: size, count: 1, region: [z, 600...780, 0...300], radius: 30...80, rng: &rng)
        addBlobs(to: &predicted, voxelSize: size, count: 3, region: near, radius: 20...70, rng: &rng)
        addBlobs(to: &predicted, voxelSize: size, count: 1, region: [z, 0...200, 700...790], radius: 30...70, rng: &rng)
        var classes = TruthRule().classify(truth: truth)
        // An invalid slab (CREMI's 0xfffffffffffffffe label) and some masked voxels.
        for y in 0..<10 { for x in 0..<shape.x { classes[4, y, x] = VoxelClass.ignored.rawValue } }
        let metrics = try CremiMetrics(predicted: predicted, classes: classes, voxelSize: size)

        let dir = try TestEnvironment.temporaryDirectory("cremi")
        defer { try? FileManager.default.removeItem(at: dir) }
        try RawFile.write(classes.storage, to: dir.appendingPathComponent("classes.u8"))
        try RawFile.write(predicted.storage, to: dir.appendingPathComponent("pred.u8"))
        let script = """
        import sys, numpy as np
        from scipy import ndimage
        d = sys.argv[1]; shape = (12, 200, 200); res = (40.0, 4.0, 4.0)
        classes = np.fromfile(d + "/classes.u8", dtype=np.uint8).reshape(shape)
        pred = np.fromfile(d + "/pred.u8", dtype=np.uint8).reshape(shape)
        invalid = classes == 2
        test_mask = np.logical_or(pred == 0, invalid)        # cremi: background or truth invalid
        truth_mask = np.logical_or(classes != 1, invalid)
        test_edt = ndimage.distance_transform_edt(test_mask, sampling=res)
        truth_edt = ndimage.distance_transform_edt(truth_mask, sampling=res)
        fp = np.logical_and(~test_mask, truth_edt > 200).sum()
        fn = np.logical_and(~truth_mask, test_edt > 200).sum()
        a = truth_edt[~test_mask]; b = test_edt[~truth_mask]
        out = [fp, fn, a.mean(), b.mean(), a.std(), b.std(), a.max(), b.max(), np.median(a), np.median(b), a.size, b.size]
        np.array(out, dtype="<f8").tofile(d + "/out.f8")
        """
        try runPython(script, [dir.path])
        let r = try RawFile.readDoubles(dir.appendingPathComponent("out.f8"))
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }
        #expect(metrics.falsePositives == Int(r[0]))
        #expect(metrics.falseNegatives == Int(r[1]))
        #expect(metrics.falsePositives > 0 && metrics.falseNegatives > 0) // the case exercises both
        #expect(close(metrics.adf, r[2]))
        #expect(close(metrics.adgt, r[3]))
        #expect(close(metrics.predictedDistances.standardDeviation, r[4]))
        #expect(close(metrics.truthDistances.standardDeviation, r[5]))
        #expect(close(metrics.predictedDistances.maximum, r[6]))
        #expect(close(metrics.truthDistances.maximum, r[7]))
        #expect(close(metrics.predictedDistances.median, r[8]))
        #expect(close(metrics.truthDistances.median, r[9]))
        #expect(metrics.predictedDistances.count == Int(r[10]))
        #expect(metrics.truthDistances.count == Int(r[11]))
        #expect(close(metrics.mean, (r[2] + r[3]) / 2))
    }

    @Test func emptySidesHaveDefinedResults() throws {
        let shape = Coordinate(3, 4, 5), size = VoxelSize(40, 4, 4)
        var truth = Volume<UInt8>(shape: shape)
        truth[1, 1, 1] = 1; truth[1, 1, 2] = 1
        let classes = TruthRule().classify(truth: truth)
        let nothing = Volume<UInt8>(shape: shape)
        let missed = try CremiMetrics(predicted: nothing, classes: classes, voxelSize: size)
        #expect(missed.adf == 0 && missed.adgt == .infinity && missed.mean == .infinity)
        #expect(missed.falseNegatives == 2 && missed.falsePositives == 0)
        let spurious = try CremiMetrics(predicted: truth, classes: TruthRule().classify(truth: nothing), voxelSize: size)
        #expect(spurious.adgt == 0 && spurious.adf == .infinity && spurious.falsePositives == 2 && spurious.falseNegatives == 0)
        let none = try CremiMetrics(predicted: nothing, classes: TruthRule().classify(truth: nothing), voxelSize: size)
        #expect(none.mean == 0 && none.falsePositives == 0 && none.falseNegatives == 0)
        let perfect = try CremiMetrics(predicted: truth, classes: classes, voxelSize: size)
        #expect(perfect.mean == 0 && perfect.predictedDistances.count == 2)
    }
}
