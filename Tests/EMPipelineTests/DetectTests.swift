import EMEvaluation
@testable import EMPipeline
import EMVolume
import Foundation
import Testing
import TestSupport

/// One object of the whole-volume reference.
private struct ReferenceObject {
    var voxels = 0
    var sum = (z: 0.0, y: 0.0, x: 0.0)
    var scoreSum = 0.0, scoreMax = -Double.infinity
    var lower = Coordinate(Int.max, Int.max, Int.max), upper = Coordinate(Int.min, Int.min, Int.min)
}

/// Objects of the whole volume by breadth-first search from each unvisited foreground voxel in
/// raster order (so in order of first voxel), independent of the blockwise labelling.
private func referenceObjects(_ scores: Volume<Float>, threshold: Double, connectivity: Int, minimumSize: Int) -> [ReferenceObject] {
    let s = scores.shape
    let limit = connectivity == 6 ? 1 : connectivity == 18 ? 2 : 3
    var neighbours: [Coordinate] = []
    for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
        let nonzero = [dz, dy, dx].filter { $0 != 0 }.count
        if nonzero >= 1 && nonzero <= limit { neighbours.append(Coordinate(dz, dy, dx)) }
    } } }
    var seen = [Bool](repeating: false, count: scores.storage.count)
    var objects: [ReferenceObject] = []
    for start in 0..<scores.storage.count where !seen[start] && Double(scores.storage[start]) >= threshold {
        var object = ReferenceObject()
        var queue = [start]
        seen[start] = true
        while let i = queue.popLast() {
            let c = Coordinate(i / (s.y * s.x), (i / s.x) % s.y, i % s.x)
            let score = Double(scores.storage[i])
            object.voxels += 1
            object.sum = (object.sum.z + Double(c.z), object.sum.y + Double(c.y), object.sum.x + Double(c.x))
            object.scoreSum += score
            object.scoreMax = max(object.scoreMax, score)
            object.lower = Coordinate.minimum(object.lower, c)
            object.upper = Coordinate.maximum(object.upper, c)
            for o in neighbours {
                let n = c + o
                guard Box(shape: s).contains(n) else { continue }
                let j = (n.z * s.y + n.y) * s.x + n.x
                if !seen[j] && Double(scores.storage[j]) >= threshold { seen[j] = true; queue.append(j) }
            }
        }
        if object.voxels >= minimumSize { objects.append(object) }
    }
    return objects
}

@Suite("Detect stage")
struct DetectTests {
    static let shape = Coordinate(16, 36, 30)

    func pipeline(input: String, csv: String, json: String, blockShape: Coordinate, connectivity: Int, minimumSize: Int, score: String) -> String {
        """
        name: detect-test
        execution:
          block_shape: \(blockShape)
          workers: 2
        stages:
          objects:
            kind: detect
            input: \(input)
            threshold: 0.6
            minimum_size: \(minimumSize)
            score: \(score)
            connectivity: \(connectivity)
            csv: \(csv)
            json: \(json)
        """
    }

    @Test("blockwise detections equal a whole-volume search; objects across block borders are reported once",
          arguments: [(Coordinate(8, 18, 15), 26, "maximum"), (Coordinate(5, 11, 7), 26, "mean"), (Coordinate(7, 13, 30), 6, "mean"),
                      (Coordinate(16, 36, 30), 18, "maximum")])
    func matchesWholeVolume(blockShape: Coordinate, connectivity: Int, score: String) throws {
        let directory = try TestEnvironment.temporaryDirectory("detect")
        let field = smoothField(Self.shape, seed: 11)
        let input = directory.path + "/scores.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(8, 16, 16))
        let csv = directory.path + "/out/detections.csv", json = directory.path + "/out/detections.json"
        let loaded = try PipelineLoader.load(file: try writePipeline(pipeline(input: input, csv: csv, json: json, blockShape: blockShape,
                                                                              connectivity: connectivity, minimumSize: 3, score: score),
                                                                     in: directory))
        let summary = try PipelineRunner(pipeline: loaded, options: RunOptions(version: "test")).run()
        #expect(summary.succeeded, "\(summary)")

        let reference = referenceObjects(field, threshold: 0.6, connectivity: connectivity, minimumSize: 3)
        let detections = try DetectionFile.readJSON(json)
        try #require(detections.count == reference.count)
        #expect(reference.count >= 5, "the test volume should hold several objects")
        let grid = try BlockGrid(region: Box(shape: Self.shape), blockShape: blockShape)
        var crossing = 0
        for (index, (d, r)) in zip(detections, reference).enumerated() {
            let n = Double(r.voxels)
            #expect(d.object.id == index + 1)
            #expect(d.object.voxelCount == r.voxels)
            #expect(d.object.box == Box(begin: r.lower, end: r.upper + Coordinate(repeating: 1)))
            let centre = [r.sum.z / n, r.sum.y / n, r.sum.x / n]
            #expect(zip(d.voxelCentre, centre).allSatisfy { abs($0 - $1) < 1e-9 })
            #expect(abs(d.object.centre.z - centre[0]) < 1e-9 && abs(d.object.centre.x - centre[2]) < 1e-9)
            #expect(abs(d.object.score - (score == "maximum" ? r.scoreMax : r.scoreSum / n)) < 1e-9)
            // The owner holds the centre voxel.
            let voxel = Coordinate(Int((centre[0] + 0.5).rounded(.down)), Int((centre[1] + 0.5).rounded(.down)), Int((centre[2] + 0.5).rounded(.down)))
            #expect(grid.block(id: d.block).writeBox.contains(voxel))
            let first = Coordinate.floorDivide(d.object.box.offset, blockShape), last = Coordinate.floorDivide(d.object.box.end - Coordinate(repeating: 1), blockShape)
            if first != last { crossing += 1 }
        }
        if grid.count > 1 { #expect(crossing > 0, "some objects should cross block borders") }

        // The CSV holds the same rows.
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first.map(String.init) == DetectionFile.csvHeader)
        #expect(rows.count == detections.count + 1)
        for (row, d) in zip(rows.dropFirst(), detections) {
            let cells = row.split(separator: ",").map(String.init)
            #expect(Int(cells[0]) == d.object.id && Int(cells[1]) == d.block && Int(cells[2]) == d.object.voxelCount)
            #expect(Double(cells[4]) == d.object.score)
        }
    }

    @Test("a re-run rewrites the same files from the stored block tables; lost blocks are redone")
    func rerun() throws {
        let directory = try TestEnvironment.temporaryDirectory("detect-rerun")
        let field = smoothField(Self.shape, seed: 3)
        let input = directory.path + "/scores.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(8, 16, 16))
        let json = directory.path + "/d.json"
        let file = try writePipeline(pipeline(input: input, csv: directory.path + "/d.csv", json: json, blockShape: Coordinate(8, 12, 10),
                                              connectivity: 26, minimumSize: 1, score: "maximum"), in: directory)
        _ = try PipelineRunner(pipeline: try PipelineLoader.load(file: file), options: RunOptions(version: "test")).run()
        let first = try DetectionFile.readJSON(json)
        try FileManager.default.removeItem(atPath: json)
        let summary = try PipelineRunner(pipeline: try PipelineLoader.load(file: file), options: RunOptions(version: "test")).run()
        #expect(summary.pass("objects", "write")?.skipped == 18)
        #expect(try DetectionFile.readJSON(json) == first)

        // As after an interruption: three blocks lost their done markers; only they are redone.
        let done = directory.path + "/d.csv.emflow-done"
        let markers = try #require(try FileManager.default.contentsOfDirectory(atPath: done).first)
        for id in [0, 5, 17] { try FileManager.default.removeItem(atPath: "\(done)/\(markers)/\(id)") }
        try FileManager.default.removeItem(atPath: json)
        let resumed = try PipelineRunner(pipeline: try PipelineLoader.load(file: file), options: RunOptions(version: "test")).run()
        #expect(resumed.pass("objects", "write")?.done == 3 && resumed.pass("objects", "write")?.skipped == 15)
        #expect(try DetectionFile.readJSON(json) == first)
    }
}

@Suite("Detect stage in batch runs")
struct DetectBatchTests {
    @Test("two volumes writing the same detections file are refused before anything runs")
    func collidingDetections() throws {
        let directory = try TestEnvironment.temporaryDirectory("detect-batch")
        var items: [BatchItem] = []
        for index in 0..<2 {
            let address = directory.path + "/v\(index).zarr/p"
            try writeVolume(smoothField(Coordinate(4, 8, 8), seed: UInt64(index)), to: address, chunks: Coordinate(4, 8, 8))
            items.append(BatchItem(address: address, name: "v\(index)"))
        }
        let file = try writePipeline("""
            vars: {input: ~, name: x}
            stages:
              objects: {kind: detect, input: "${input}", csv: \(directory.path)/objects.csv}
            """, in: directory)
        #expect {
            try BatchRunner(file: file, overrides: []).run(items, options: RunOptions(version: "test"))
        } throws: { "\($0)".contains("would both write '\(directory.path)/objects.csv'") }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/objects.csv"))
    }
}
