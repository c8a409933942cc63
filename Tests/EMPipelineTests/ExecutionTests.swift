@testable import EMPipeline
import EMLabels
import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// Pipelines run in-process over real Zarr and HDF5 stores, compared with whole-volume
/// references computed independently.
@Suite("Pipeline execution")
struct ExecutionTests {
    static let shape = Coordinate(14, 40, 36)

    /// A threshold + components pipeline writing the mask and the labels.
    func componentsPipeline(input: String, output: String, blockShape: Coordinate, connectivity: Int = 6,
                            threshold: Double = 0.55, edgeFit: String = "shrink", extra: String = "") -> String {
        """
        name: components-test
        execution:
          block_shape: \(blockShape)
          edge_fit: \(edgeFit)
          workers: 2
          queue_depth: 2
          retries: 1
        stages:
          mask:
            kind: threshold
            input: \(input)
            value: \(threshold)
          labels:
            kind: components
            input: mask
            connectivity: \(connectivity)
          save_mask:
            kind: write
            input: mask
            output: \(output.contains(".h5") ? output + ":mask" : output + "/mask")
          save_labels:
            kind: write
            input: labels
            output: \(output.contains(".h5") ? output + ":labels" : output + "/labels")
        \(extra)
        """
    }

    func run(_ yaml: String, in directory: URL, overrides: [VariableOverride] = [], events: EventLog = .disabled) throws -> RunSummary {
        let pipeline = try PipelineLoader.load(file: try writePipeline(yaml, in: directory), overrides: overrides)
        return try PipelineRunner(pipeline: pipeline, options: RunOptions(version: "test", events: events)).run()
    }

    @Test("blockwise threshold + components equal the whole-volume result",
          arguments: [(Coordinate(7, 20, 12), 6, "shrink", "zarr"), (Coordinate(5, 16, 11), 26, "shrink", "zarr"),
                      (Coordinate(4, 12, 16), 18, "overhang", "zarr"), (Coordinate(6, 20, 9), 6, "shrink", "h5")])
    func componentsMatchWholeVolume(blockShape: Coordinate, connectivity: Int, edgeFit: String, format: String) throws {
        let directory = try TestEnvironment.temporaryDirectory("components")
        let field = smoothField(Self.shape, seed: 5)
        let input = directory.path + "/field.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(8, 16, 16))
        let output = directory.path + (format == "h5" ? "/out.h5" : "/out.zarr")
        let summary = try run(componentsPipeline(input: input, output: output, blockShape: blockShape, connectivity: connectivity, edgeFit: edgeFit),
                              in: directory)
        #expect(summary.succeeded, "\(summary)")
        let blocks = try BlockGrid(region: Box(shape: Self.shape), blockShape: blockShape, fit: EdgeFit(rawValue: edgeFit)!).count
        #expect(summary.pass("save_labels", "write")?.done == blocks)
        #expect(summary.pass("labels", "label")?.done == blocks)

        let mask = thresholded(field, above: 0.55)
        let reference = referenceComponents(mask, connectivity: connectivity)
        let separator = format == "h5" ? ":" : "/"
        #expect(try readVolume(output + separator + "mask", as: UInt8.self) == mask)
        let labels = try readVolume(output + separator + "labels", as: UInt64.self)
        #expect(labels == reference)
        #expect(reference.storage.max()! > 3, "the test volume should hold several objects")
    }

    @Test("normalisation uses statistics of the whole volume, not of each block")
    func normalize() throws {
        let directory = try TestEnvironment.temporaryDirectory("normalize")
        let field = smoothField(Coordinate(10, 24, 20), seed: 9)
        let raw = field.map { UInt8(clampingDouble: Double($0) * 200 + 20) }
        let input = directory.path + "/raw.h5:volumes/raw"
        try writeVolume(raw, to: input, chunks: Coordinate(5, 12, 10))
        let summary = try run("""
        execution:
          block_shape: 4,10,7
        stages:
          percent:
            kind: normalize
            input: \(input)
            mode: percentile
            lower_percentile: 5
            upper_percentile: 95
          standard:
            kind: normalize
            input: \(input)
            mode: zscore
          save_percent:
            kind: write
            input: percent
            output: \(directory.path)/n.zarr/percent
          save_standard:
            kind: write
            input: standard
            output: \(directory.path)/n.zarr/standard
        """, in: directory)
        #expect(summary.succeeded, "\(summary)")
        let values = raw.storage.map(Double.init)
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double { sorted[max(1, Int((p / 100 * Double(values.count)).rounded(.up))) - 1] }
        let (low, high) = (rank(5), rank(95))
        let mean = values.reduce(0, +) / Double(values.count)
        let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        let percent = try readVolume(directory.path + "/n.zarr/percent", as: Float.self)
        let standard = try readVolume(directory.path + "/n.zarr/standard", as: Float.self)
        for (i, v) in values.enumerated() {
            #expect(abs(Double(percent.storage[i]) - min(1, max(0, (v - low) / (high - low)))) < 1e-6)
            #expect(abs(Double(standard.storage[i]) - (v - mean) / deviation) < 1e-5)
        }
        #expect(percent.storage.contains(0) && percent.storage.contains(1))
    }

    @Test("re-running skips finished blocks; a changed parameter redoes only the stages it affects")
    func resumeAndChanges() throws {
        let directory = try TestEnvironment.temporaryDirectory("resume")
        let field = smoothField(Self.shape, seed: 6)
        let input = directory.path + "/field.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(7, 20, 18))
        let output = directory.path + "/out.zarr"
        let blockShape = Coordinate(7, 20, 18)
        let blocks = 8
        let first = try run(componentsPipeline(input: input, output: output, blockShape: blockShape), in: directory)
        #expect(first.pass("save_mask", "write")?.done == blocks && first.pass("save_labels", "write")?.done == blocks)

        let again = try run(componentsPipeline(input: input, output: output, blockShape: blockShape), in: directory)
        #expect(again.pass("save_mask", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (0, blocks))
        #expect(again.pass("save_labels", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (0, blocks))

        // Lose three blocks of the labels (markers and data): only they are redone.
        let markers = try FileManager.default.contentsOfDirectory(atPath: output + "/labels/.emflow-done")
        #expect(markers.count == 1)
        let markerDirectory = output + "/labels/.emflow-done/" + markers[0]
        let labelsStore = try Stores.open(try StoreAddress.parse(output + "/labels"), writable: true)
        let grid = try BlockGrid(region: Box(shape: Self.shape), blockShape: blockShape)
        for id in [1, 4, 6] {
            try FileManager.default.removeItem(atPath: markerDirectory + "/\(id)")
            try labelsStore.write(Volume<UInt64>(box: grid.block(id: id).writeBox, repeating: 999))
        }
        let repaired = try run(componentsPipeline(input: input, output: output, blockShape: blockShape), in: directory)
        #expect(repaired.pass("save_labels", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (3, blocks - 3))
        #expect(repaired.pass("save_mask", "write")?.done == 0)
        let mask6 = thresholded(field, above: 0.55)
        #expect(try readVolume(output + "/labels", as: UInt64.self) == referenceComponents(mask6, connectivity: 6))

        // Connectivity changes the labels only; the threshold changes both.
        let connected = try run(componentsPipeline(input: input, output: output, blockShape: blockShape, connectivity: 26), in: directory)
        #expect(connected.pass("save_mask", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (0, blocks))
        #expect(connected.pass("save_labels", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (blocks, 0))
        #expect(try readVolume(output + "/labels", as: UInt64.self) == referenceComponents(mask6, connectivity: 26))
        let lower = try run(componentsPipeline(input: input, output: output, blockShape: blockShape, connectivity: 26, threshold: 0.45), in: directory)
        #expect(lower.pass("save_mask", "write")?.done == blocks && lower.pass("save_labels", "write")?.done == blocks)
        let mask45 = thresholded(field, above: 0.45)
        #expect(try readVolume(output + "/mask", as: UInt8.self) == mask45)
        #expect(try readVolume(output + "/labels", as: UInt64.self) == referenceComponents(mask45, connectivity: 26))
        // Old markers are gone: only the current configuration's remain.
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/labels/.emflow-done").count == 1)
    }

    @Test("a run stopped right after its writer replaced the output (before the new provenance) leaves an output the next run redoes, not refuses")
    func replacedOutputStaysEmflows() throws {
        let directory = try TestEnvironment.temporaryDirectory("replaced-output")
        let input = directory.path + "/in.zarr/raw"
        try writeVolume(smoothField(Self.shape, seed: 4), to: input, chunks: Coordinate(7, 20, 18))
        let output = directory.path + "/out.zarr"
        let yaml = componentsPipeline(input: input, output: output, blockShape: Coordinate(7, 20, 18))
        #expect(try run(yaml, in: directory).succeeded)
        let expected = try readVolume(output + "/mask", as: UInt8.self)
        // What a run with another threshold does first (the runner's openSinks), and then it is killed.
        let changed = try PipelineLoader.load(file: try writePipeline(yaml.replacingOccurrences(of: "value: 0.55", with: "value: 0.7"), in: directory))
        let save = try #require(changed.stage("save_mask"))
        let context = StageContext(pipeline: changed, inputs: ["input": try #require(changed.stage("mask")?.output)])
        let writer = try #require(try save.configured.makeImplementation(for: save, in: context) as? BlockSink)
        try writer.open(resume: false, grid: try BlockGrid(region: Box(shape: Self.shape), blockShape: Coordinate(7, 20, 18)))
        let again = try run(yaml, in: directory)
        #expect(again.succeeded, "\(again)")
        #expect(try readVolume(output + "/mask", as: UInt8.self) == expected)
    }

    @Test("failed blocks are retried, reported, and redone by the next run; events and provenance are written")
    func failures() throws {
        let directory = try TestEnvironment.temporaryDirectory("failures")
        let field = smoothField(Coordinate(8, 16, 16), seed: 8)
        let input = directory.path + "/field.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(4, 8, 8))
        let yaml = """
        execution:
          block_shape: 4,8,8
          retries: 2
        stages:
          mask:
            kind: threshold
            input: \(input)
            value: 0.5
          save:
            kind: write
            input: mask
            output: \(directory.path)/out.zarr/mask
        """
        // Damage one chunk of the input: the block reading it fails, the others succeed.
        let array = directory.path + "/field.zarr/p"
        let chunk = FileManager.default.enumerator(atPath: array)!.compactMap { $0 as? String }
            .filter { name in !name.split(separator: "/").contains { $0.hasPrefix(".") } && !name.hasPrefix("zarr") }
            .filter { var isDirectory: ObjCBool = false; return FileManager.default.fileExists(atPath: array + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue }
            .sorted().last!
        let chunkPath = array + "/" + chunk
        let original = try Data(contentsOf: URL(fileURLWithPath: chunkPath))
        try Data("not a chunk".utf8).write(to: URL(fileURLWithPath: chunkPath))
        let eventsPath = directory.path + "/events.jsonl"
        let events = try EventLog(path: eventsPath)
        let broken = try run(yaml, in: directory, events: events)
        events.close()
        #expect(!broken.succeeded)
        #expect(broken.pass("save", "write").map { ($0.done, $0.failed) } ?? (-1, -1) == (7, 1), "\(broken)")
        #expect(broken.description.contains("failed"))
        let lines = try String(contentsOfFile: eventsPath, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let failed = objects.filter { $0["event"] as? String == "block" && $0["status"] as? String == "failed" }
        #expect(failed.count == 1 && failed[0]["attempts"] as? Int == 3, "\(failed)")
        #expect(objects.first?["event"] as? String == "run_start" && objects.last?["event"] as? String == "run_end")
        #expect(objects.last?["succeeded"] as? Bool == false)

        // The broken run's markers were made from the input with the damaged chunk; repaired,
        // the input is another state (its fingerprint covers the files' sizes and times), so
        // every block is redone rather than trusting results of the damaged input.
        try original.write(to: URL(fileURLWithPath: chunkPath))
        let fixed = try run(yaml, in: directory)
        #expect(fixed.succeeded && fixed.pass("save", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (8, 0), "\(fixed)")
        let again = try run(yaml, in: directory)
        #expect(again.pass("save", "write").map { ($0.done, $0.skipped) } ?? (-1, -1) == (0, 8), "\(again)")
        #expect(try readVolume(directory.path + "/out.zarr/mask", as: UInt8.self) == thresholded(field, above: 0.5))

        let provenance = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.path + "/out.zarr/mask/.emflow-provenance.json"))) as! [String: Any]
        #expect(provenance["complete"] as? Bool == true && provenance["emflow_version"] as? String == "test")
        let resolved = provenance["pipeline"] as! [String: Any]
        let stages = resolved["stages"] as! [[String: Any]]
        #expect(stages.map { $0["name"] as! String } == ["mask.input", "mask", "save"])
        #expect((stages[1]["parameters"] as! [String: Any])["comparison"] as? String == "greater")
    }
}

@Suite("Format conversion pipeline")
struct ConversionTests {
    @Test("pipelines/convert.yaml copies HDF5 to Zarr and to TIFF slices, voxel for voxel", arguments: ["zarr", "tiff"])
    func convert(format: String) throws {
        let directory = try TestEnvironment.temporaryDirectory("convert")
        let raw = smoothField(Coordinate(6, 20, 30), seed: 4).map { UInt16(clampingDouble: Double($0) * 60000) }
        let input = directory.path + "/raw.h5:volumes/raw"
        try writeVolume(raw, to: input, chunks: Coordinate(3, 10, 10))
        let output = format == "zarr" ? directory.path + "/raw.zarr/raw" : directory.path + "/slices/*.tif"
        let overrides = [VariableOverride(name: "input", value: input), VariableOverride(name: "output", value: output),
                         VariableOverride(name: "chunks", value: format == "zarr" ? "2,8,16" : "1,1,1"),
                         VariableOverride(name: "block_shape", value: format == "zarr" ? "4,16,16" : "2,20,30")]
        let pipeline = try PipelineLoader.load(file: TestEnvironment.repositoryRoot.appendingPathComponent("pipelines/convert.yaml").path,
                                               overrides: overrides)
        let summary = try PipelineRunner(pipeline: pipeline, options: RunOptions(version: "test")).run()
        #expect(summary.succeeded, "\(summary)")
        #expect(try readVolume(output, as: UInt16.self) == raw)
        if format == "zarr" {
            #expect(try Stores.open(try StoreAddress.parse(output)).metadata.chunkShape == Coordinate(2, 8, 16))
        }
    }
}
