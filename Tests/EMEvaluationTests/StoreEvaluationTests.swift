import Foundation
import Testing
import EMVolume
import EMStorage
import EMStores
import TestSupport
@testable import EMEvaluation

/// Writes a volume into a new chunked gzip store (HDF5 for `.h5` files, Zarr for `.zarr`).
private func makeStore<T: VoxelScalar>(_ volume: Volume<T>, file: URL, key: String, voxelSize: VoxelSize = .unit,
                                       chunks: Coordinate = Coordinate(3, 32, 32)) throws -> VolumeStore {
    let spec = VolumeSpec(shape: volume.shape, dataType: T.dataType, chunkShape: chunks, voxelSize: voxelSize, codec: .gzip(level: 1))
    let format: StoreAddress.Format = file.pathExtension == "zarr" ? .zarr : .hdf5
    let store = try Stores.create(StoreAddress(format: format, path: file.path, key: key), spec: spec)
    try store.write(volume)
    try store.flush()
    return store
}

/// Blobs as truth, noisy scores that follow them.
private func blobPair(shape: Coordinate, seed: UInt64) -> (scores: Volume<Float>, truth: Volume<UInt8>) {
    var rng = SeededGenerator(seed: seed)
    var scores = Volume<Float>(shape: shape), truth = Volume<UInt8>(shape: shape)
    let centres = (0..<5).map { _ in (0..<3).map { Double.random(in: 0..<Double(shape[$0]), using: &rng) } }
    for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x {
        let d = centres.map { c in (pow((Double(z) - c[0]) * 8, 2) + pow(Double(y) - c[1], 2) + pow(Double(x) - c[2], 2)).squareRoot() }.min()!
        truth[z, y, x] = d < 6 ? 1 : 0
        scores[z, y, x] = Float(min(1, max(0, 1 / (1 + pow(d / 6, 3)) + Double.random(in: -0.2...0.2, using: &rng))))
    } } }
    return (scores, truth)
}

@Suite("Evaluation of stores")
struct StoreEvaluationTests {
    @Test func storeEvaluationEqualsInMemoryEvaluation() throws {
        let dir = try TestEnvironment.temporaryDirectory("eval-store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (scores, truth) = blobPair(shape: Coordinate(10, 48, 40), seed: 7)
        var mask = Volume<UInt8>(shape: scores.shape, repeating: 1)
        for y in 0..<48 { for x in 30..<40 { mask[5, y, x] = 0 } }
        let size = VoxelSize(40, 5, 5)
        let file = dir.appendingPathComponent("volumes.h5")
        let predictionStore = try makeStore(scores, file: dir.appendingPathComponent("prediction.zarr"), key: "scores", voxelSize: size)
        let truthStore = try makeStore(truth.map { UInt32($0) * 17 }, file: file, key: "labels", voxelSize: size) // instance-like ids
        let maskStore = try makeStore(mask, file: file, key: "mask", voxelSize: size)
        let options = EvaluationOptions(threshold: 0.5, objects: ObjectOptions(minimumSize: .cubicNanometres(3 * 1000)), overlaySections: 2)
        let fromStores = try Evaluator.evaluate(prediction: predictionStore, truth: truthStore, mask: maskStore, options: options)
        let inMemory = try Evaluator.evaluate(prediction: scores, truth: truth, mask: mask, voxelSize: size, options: options)
        let same = fromStores.voxel == inMemory.voxel && fromStores.objects == inMemory.objects && fromStores.cremi == inMemory.cremi
        #expect(same)
        #expect(fromStores.truth == "\(file.path):labels" && fromStores.mask == "\(file.path):mask")
        #expect(fromStores.voxelSize == size)
        #expect(fromStores.performance.bytesRead == scores.shape.product * (4 + 4 + 1))
        #expect(fromStores.voxel.ignoredVoxels == 480)
        #expect((fromStores.objects?.predictions.count ?? 0) > 0)
    }

    @Test func storeInputsAreChecked() throws {
        let dir = try TestEnvironment.temporaryDirectory("eval-store-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("v.h5")
        let truth = try makeStore(Volume<UInt8>(shape: Coordinate(4, 8, 8)), file: file, key: "truth")
        let labels = try makeStore(Volume<UInt32>(shape: Coordinate(4, 8, 8)), file: file, key: "ids")
        let small = try makeStore(Volume<Float>(shape: Coordinate(4, 8, 7)), file: file, key: "small")
        let floats = try makeStore(Volume<Float>(shape: Coordinate(4, 8, 8)), file: file, key: "floats")
        #expect(throws: EvaluationError.unsupportedDataType(what: "prediction \(file.path):ids", dataType: "uint32", supported: "float32, uint8 or uint16 scores")) {
            try Evaluator.evaluate(prediction: labels, truth: truth)
        }
        #expect(throws: EvaluationError.self) { try Evaluator.evaluate(prediction: small, truth: truth) }
        #expect(throws: EvaluationError.self) { try Evaluator.evaluate(prediction: floats, truth: floats) }
    }

    /// Real synapse labels (VNC, 50 x 4.6 x 4.6 nm) against a degraded copy written to HDF5:
    /// the same numbers from scikit-learn and scipy reading the same files with h5py.
    @Test(.enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)), .needsPython)
    func realSynapsesMatchSklearnAndScipy() throws {
        let source = TestEnvironment.sharedData!.appendingPathComponent("vnc-synapse/val.h5")
        let truthStore = try Stores.open("\(source.path):volumes/labels/synapse")
        let rawStore = try Stores.open("\(source.path):volumes/raw")
        let region = Box(offset: Coordinate(0, 128, 128), shape: Coordinate(20, 256, 256))
        // Prediction: the truth shifted by 3 voxels in x, one section in z, blurred into scores
        // with noise, written as uint8 scores (value / 255).
        let truth = try truthStore.readAll(as: UInt8.self)
        var rng = SeededGenerator(seed: 99)
        var prediction = Volume<UInt8>(shape: truth.shape)
        for z in 0..<truth.shape.z { for y in 0..<truth.shape.y { for x in 0..<truth.shape.x {
            let sz = min(truth.shape.z - 1, z + 1), sx = max(0, x - 3)
            let base = truth[sz, y, sx] != 0 ? 200.0 : 20.0
            prediction[z, y, x] = UInt8(clampingDouble: base + Double.random(in: -60...60, using: &rng))
        } } }
        let dir = try TestEnvironment.temporaryDirectory("eval-real")
        defer { removeOrKeep(dir) }
        let predictionFile = dir.appendingPathComponent("prediction.h5")
        let predictionStore = try makeStore(prediction, file: predictionFile, key: "scores", voxelSize: truthStore.metadata.voxelSize,
                                            chunks: Coordinate(4, 128, 128))
        let options = EvaluationOptions(threshold: 128.0 / 255, region: region, overlaySections: 2)
        let result = try Evaluator.evaluate(prediction: predictionStore, truth: truthStore, raw: rawStore, name: "vnc val", options: options)
        let script = """
        import sys, warnings, h5py, numpy as np
        from scipy import ndimage
        from sklearn.metrics import average_precision_score, roc_auc_score
        warnings.simplefilter("ignore")
        f = h5py.File(sys.argv[1], "r"); g = h5py.File(sys.argv[2], "r")
        t = f["volumes/labels/synapse"][0:20, 128:384, 128:384] != 0
        s = g["scores"][0:20, 128:384, 128:384]
        res = tuple(f["volumes/labels/synapse"].attrs["resolution"])
        p = s >= 128
        ap = average_precision_score(t.ravel(), s.ravel()); auc = roc_auc_score(t.ravel(), s.ravel())
        tp = int((p & t).sum()); fp = int((p & ~t).sum()); fn = int((~p & t).sum())
        test_edt = ndimage.distance_transform_edt(~p, sampling=res); truth_edt = ndimage.distance_transform_edt(~t, sampling=res)
        adf = truth_edt[p].mean(); adgt = test_edt[t].mean()
        print(ap, auc, tp, fp, fn, adf, adgt, int((truth_edt[p] > 200).sum()), int((test_edt[t] > 200).sum()))
        """
        let r = try runPython(script, [source.path, predictionFile.path]).split(separator: " ")
            .map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        #expect(abs(result.voxel.curve.averagePrecision - r[0]) <= 1e-9)
        #expect(abs(result.voxel.curve.rocAUC! - r[1]) <= 1e-9)
        #expect(result.voxel.counts == ConfusionCounts(truePositives: Int(r[2]), falsePositives: Int(r[3]), falseNegatives: Int(r[4]),
                                                       trueNegatives: region.voxelCount - Int(r[2] + r[3] + r[4])))
        let cremi = try #require(result.cremi)
        #expect(abs(cremi.adf - r[5]) <= 1e-9 * r[5] && abs(cremi.adgt - r[6]) <= 1e-9 * r[6])
        #expect(cremi.falsePositives == Int(r[7]) && cremi.falseNegatives == Int(r[8]))
        #expect(result.voxelSize == VoxelSize(50, 4.6, 4.6))
        #expect((result.objects?.truths.count ?? 0) > 0)
        // The report of real data, with overlays of the raw EM.
        #expect(result.overlays.count == 2 && result.overlays.allSatisfy { $0.width == 256 && $0.height == 256 })
        let reportDirectory = dir.appendingPathComponent("report")
        let html = try ReportWriter.write(EvaluationReport(title: "VNC synapses", runs: [RunEvaluation(name: "degraded truth", volumes: [result])]),
                                          to: reportDirectory)
        #expect(try String(contentsOf: html, encoding: .utf8).contains("vnc val"))
        #expect(try ReportWriter.read(from: reportDirectory).runs[0].volumes[0] == result)
    }
}
