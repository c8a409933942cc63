@testable import EMPipeline
import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// The downsample stage against numpy (loops over every cell) and zarr-python (the OME-Zarr
/// metadata as a client reads it), and its resume after an interruption.
@Suite("Downsample stage", .serialized)
struct DownsampleTests {
    /// A uint8 image and a uint64 label volume whose shapes no factor divides.
    static func saveData(in directory: URL) throws -> (image: String, labels: String) {
        var image = Volume<UInt8>(shape: Coordinate(7, 37, 41))
        var labels = Volume<UInt64>(shape: Coordinate(7, 37, 41))
        var state: UInt64 = 12345
        for i in 0..<image.storage.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            image.storage[i] = UInt8(truncatingIfNeeded: state >> 56)
            // Few labels, often tied within a cell, so that the tie rule matters.
            labels.storage[i] = (state >> 40) % 3 == 0 ? 0 : 1 + (state >> 33) % 3
        }
        let (imagePath, labelPath) = (directory.path + "/data.zarr/image", directory.path + "/data.zarr/labels")
        // Voxels of 40 x 4 x 4 nm, as in serial-section EM: the default factors are 1,2,2.
        let imageStore = try Stores.create(try StoreAddress.parse(imagePath),
                                           spec: VolumeSpec(shape: image.shape, dataType: .uint8, chunkShape: Coordinate(4, 16, 16),
                                                            voxelSize: VoxelSize(40, 4, 4), codec: .zstd(level: 1)))
        try imageStore.write(image)
        try imageStore.flush()
        try writeVolume(labels, to: labelPath, chunks: Coordinate(4, 16, 16))
        return (imagePath, labelPath)
    }

    static func pipeline(_ image: String, _ labels: String, output: String) -> String {
        """
        stages:
          image_pyramid:
            kind: downsample
            input: \(image)
            output: \(output)/image
            levels: 3
            chunks: 4,8,8
          label_pyramid:
            kind: downsample
            input: \(labels)
            output: \(output)/labels
            levels: 2
            factors: 2,2,2
            zarr_version: 3
        """
    }

    @Test("levels equal numpy's mean (images) and mode (labels, ties to the smallest) per cell; zarr-python reads the OME multiscales")
    func matchesNumpy() throws {
        try #require(TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing))
        let directory = try TestEnvironment.temporaryDirectory("downsample")
        let (image, labels) = try Self.saveData(in: directory)
        let output = directory.path + "/pyramid.zarr"
        let path = try writePipeline(Self.pipeline(image, labels, output: output), in: directory)
        let summary = try PipelineRunner(pipeline: try PipelineLoader.load(file: path), options: RunOptions(version: "test")).run()
        #expect(summary.succeeded, "\(summary)")
        let report = try runPython("""
        import sys, json, numpy as np, zarr
        import warnings; warnings.simplefilter("ignore")  # zarr-python lists emflow's bookkeeping files in the group
        image = np.asarray(zarr.open(sys.argv[2], mode="r"))
        labels = np.asarray(zarr.open(sys.argv[3], mode="r"))
        def reduce(volume, factor, method):
            shape = [-(-s // f) for s, f in zip(volume.shape, factor)]
            out = np.zeros(shape, volume.dtype)
            for z in range(shape[0]):
                for y in range(shape[1]):
                    for x in range(shape[2]):
                        cell = volume[z*factor[0]:(z+1)*factor[0], y*factor[1]:(y+1)*factor[1], x*factor[2]:(x+1)*factor[2]].ravel()
                        if method == "mean":
                            out[z, y, x] = np.floor(cell.astype(np.float64).mean() + 0.5)
                        else:
                            values, counts = np.unique(cell, return_counts=True)
                            out[z, y, x] = values[np.argmax(counts)]
            return out
        result = {}
        for name, volume, factors, method in [("image", image, [(1, 2, 2)] * 3, "mean"), ("labels", labels, [(2, 2, 2)] * 2, "mode")]:
            group = zarr.open_group(sys.argv[1] + "/" + name, mode="r")
            attributes = dict(group.attrs)
            multiscales = attributes["multiscales"] if "multiscales" in attributes else attributes["ome"]["multiscales"]
            datasets = multiscales[0]["datasets"]
            expected, mismatches = volume, []
            np.testing.assert_array_equal(np.asarray(group["0"]), volume)
            for level, factor in enumerate(factors, start=1):
                expected = reduce(expected, factor, method)
                got = np.asarray(group[str(level)])
                if got.shape != expected.shape or not np.array_equal(got, expected):
                    mismatches.append(level)
            result[name] = {"mismatches": mismatches, "paths": [d["path"] for d in datasets],
                            "scales": [d["coordinateTransformations"][0]["scale"] for d in datasets],
                            "translations": [d["coordinateTransformations"][1]["translation"] for d in datasets]}
        print(json.dumps(result))
        """, [output, image, labels])
        let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as! [String: [String: Any]]
        #expect(result["image"]?["mismatches"] as? [Int] == [], "\(report)")
        #expect(result["labels"]?["mismatches"] as? [Int] == [], "\(report)")
        #expect(result["image"]?["paths"] as? [String] == ["0", "1", "2", "3"])
        // Level k summarises 2^k x 2^k voxels in y and x, centred on them (z stays: 40 nm is
        // more than 1.5 x the 16 nm of level 2).
        #expect(result["image"]?["scales"] as? [[Double]] == [[40, 4, 4], [40, 8, 8], [40, 16, 16], [40, 32, 32]], "\(report)")
        #expect(result["image"]?["translations"] as? [[Double]] == [[0, 0, 0], [0, 2, 2], [0, 6, 6], [0, 14, 14]], "\(report)")
        // The labels (1 nm voxels, factors 2,2,2 given) in OME-Zarr 0.5.
        #expect(result["labels"]?["scales"] as? [[Double]] == [[1, 1, 1], [2, 2, 2], [4, 4, 4]], "\(report)")
        // emflow reads each level back where OME-Zarr places it.
        let level = try Stores.open(try StoreAddress.parse(output + "/image/2")).metadata
        #expect(level.voxelSize == VoxelSize(40, 16, 16) && level.origin == WorldPoint(0, 6, 6))
    }

    @Test("an interrupted pyramid resumes: finished chunks are kept, the others written; a rewritten input builds it afresh")
    func resumes() throws {
        let directory = try TestEnvironment.temporaryDirectory("downsample-resume")
        let (image, labels) = try Self.saveData(in: directory)
        let output = directory.path + "/pyramid.zarr"
        let path = try writePipeline(Self.pipeline(image, labels, output: output), in: directory)
        func run() throws -> RunSummary {
            try PipelineRunner(pipeline: try PipelineLoader.load(file: path), options: RunOptions(version: "test")).run()
        }
        #expect(try run().succeeded)
        let levelAddress = try StoreAddress.parse(output + "/image/2")
        let complete = try readVolume(output + "/image/2", as: UInt8.self)
        // Interrupt it: the step is marked unfinished, two chunks of level 2 lose their
        // markers and their data, and one finished chunk is overwritten with a sentinel.
        let marker = output + "/image/.emflow-step-image_pyramid.json"
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: marker))) as! [String: Any]
        state["complete"] = false
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: marker))
        let markers = try FileManager.default.contentsOfDirectory(atPath: output + "/image/.emflow-levels").first { $0.hasPrefix("level2-") }!
        let markerDirectory = output + "/image/.emflow-levels/" + markers
        for id in ["0", "1"] { try FileManager.default.removeItem(atPath: markerDirectory + "/" + id) }
        let store = try Stores.open(levelAddress, writable: true)
        let grid = try BlockGrid(region: Box(shape: store.metadata.shape), blockShape: store.metadata.chunkShape)
        for id in [0, 1, 2] { try store.write(Volume<UInt8>(box: grid.block(id: id).writeBox, repeating: 7)) }
        try store.flush()
        #expect(try run().succeeded)
        let resumed = try readVolume(output + "/image/2", as: UInt8.self)
        for id in 0..<grid.count {
            let box = grid.block(id: id).writeBox
            let expected = id == 2 ? Volume<UInt8>(box: box, repeating: 7) : complete.cropped(to: box)
            #expect(resumed.cropped(to: box) == expected, "chunk \(id): \(id == 2 ? "finished, so kept" : "rewritten")")
        }
        // The input rewritten at the same address (new content): every chunk is built again.
        let input = try Stores.open(try StoreAddress.parse(image), writable: true)
        try input.write(Volume<UInt8>(shape: input.metadata.shape, repeating: 9))
        try input.flush()
        #expect(try run().succeeded)
        #expect(try readVolume(output + "/image/2", as: UInt8.self) == Volume<UInt8>(box: complete.box, repeating: 9))
    }
}
