import EMNN
import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// A generated image, a small untrained U-Net checkpoint and a pipeline that predicts, thresholds
/// and labels components: the sharded part (prediction) and the finalize part (the merge).
struct ClusterFixture {
    /// The directory holding the inputs; runs write their outputs here too.
    let directory: URL
    /// The pipeline file (variable `output`: a Zarr directory).
    let pipeline: String

    static let shape = Coordinate(16, 128, 128)
    static let blockShape = Coordinate(4, 32, 32)

    /// Writes the inputs and the pipeline into a fresh directory.
    init(label: String, seed: UInt64 = 5) throws {
        directory = try TestEnvironment.temporaryDirectory(label)
        var generator = SeededGenerator(seed: seed)
        var image = Volume<UInt8>(shape: Self.shape)
        for i in image.storage.indices { image.storage[i] = UInt8.random(in: 0...255, using: &generator) }
        let store = try Stores.create(try StoreAddress.parse(directory.path + "/image.zarr/raw"),
                                      spec: VolumeSpec(shape: Self.shape, dataType: .uint8, chunkShape: Coordinate(8, 64, 64), codec: .zstd(level: 1)))
        try store.write(image)
        try store.flush()

        let configuration = UNetConfiguration(depth: 2, baseWidth: 4, widthMultiplier: 2,
                                              kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3)],
                                              poolingFactors: [Coordinate(1, 2, 2)], convolutionsPerLevel: 1,
                                              padding: .same, seed: seed)
        try UNet(configuration: configuration, threads: 1).save(to: directory.appendingPathComponent("model"))

        pipeline = directory.appendingPathComponent("pipeline.yaml").path
        try """
        name: cluster-test
        vars:
          output: ~
        execution:
          block_shape: \(Self.blockShape)
          workers: 1
          queue_depth: 2
          retries: 0
        stages:
          prediction:
            kind: predict
            input: image.zarr/raw
            model: model
            threads: 1
          mask:
            kind: threshold
            input: prediction
            value: 0.5
          labels:
            kind: components
            input: mask
          save_prediction:
            kind: write
            input: prediction
            output: ${output}/prediction
          save_labels:
            kind: write
            input: labels
            output: ${output}/labels
        """.write(toFile: pipeline, atomically: true, encoding: .utf8)
    }

    /// The number of blocks of each output.
    static var blocks: Int { (0..<3).map { (shape[$0] + blockShape[$0] - 1) / blockShape[$0] }.reduce(1, *) }

    /// Runs emflow in the fixture's directory (relative paths in the pipeline resolve there).
    @discardableResult
    func emflow(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(TestEnvironment.emflowBinary, arguments, currentDirectory: directory)
    }

    /// The run directory of a submission writing into `output`.
    func runDirectory(_ output: String) -> String {
        directory.path + "/\(output)/prediction/.emflow-run"
    }

    /// Runs the pipeline in one process into `output` and expects success.
    func runSingle(_ output: String) throws {
        let result = try emflow(["run", pipeline, "--set", "output=\(output)", "--quiet"])
        #expect(result.status == 0, "emflow run: \(result.stderr)")
    }

    /// Asserts that the arrays `prediction` and `labels` of the Zarr directories `a` and `b`
    /// hold the same files with the same bytes (metadata and every chunk; emflow's sidecars
    /// aside); returns the number of files compared.
    @discardableResult
    func expectIdentical(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        var compared = 0
        for array in ["prediction", "labels"] {
            let left = directory.path + "/\(a)/\(array)", right = directory.path + "/\(b)/\(array)"
            let files = try Self.files(left)
            #expect(files == (try Self.files(right)), "\(array): different chunk files", sourceLocation: sourceLocation)
            #expect(files.count > Self.blocks, "\(array): expected a chunk per block", sourceLocation: sourceLocation)
            for file in files {
                let same = FileManager.default.contents(atPath: left + "/" + file) == FileManager.default.contents(atPath: right + "/" + file)
                #expect(same, "\(array)/\(file) differs", sourceLocation: sourceLocation)
                compared += 1
            }
        }
        return compared
    }

    /// Relative paths of the files under `root`, except emflow's sidecars (`.emflow-*`).
    static func files(_ root: String) throws -> Set<String> {
        var result = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let path = enumerator?.nextObject() as? String {
            if path.split(separator: "/").contains(where: { $0.hasPrefix(".emflow-") }) { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue { result.insert(path) }
        }
        return result
    }

    /// `emflow status RUN_DIR --json` as objects.
    func status(_ runDirectory: String) throws -> [String: Any] {
        let result = try emflow(["status", runDirectory, "--json"])
        #expect(result.status == 0, "emflow status: \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }
}
