import Foundation
import Testing
import TestSupport

/// `emflow train` as a user runs it: a generated volume, a YAML configuration, the real binary.
@Suite("Train command", .serialized)
struct TrainCommandTests {
    static let data: URL = {
        let dir = try! TestEnvironment.temporaryDirectory("train-cli")
        let result = try! runEmflow(["generate", dir.appendingPathComponent("g.zarr").path, "--shape", "8,48,48", "--seed", "2", "--chunks", "8,48,48"])
        precondition(result.status == 0, "emflow generate failed: \(result.stderr)")
        return dir
    }()

    func config(_ output: URL, raw: String? = nil, extra: String = "") -> String {
        let volume = Self.data.appendingPathComponent("g.zarr").path
        return """
        raw: \(raw ?? volume + "/volumes/raw")
        label: \(volume)/volumes/labels/synapse
        trainRegion: "0:6,0:48,0:48"
        validation:
          region: "6:8,0:48,0:48"
          every: 2
          blockShape: [2, 16, 16]
        patchShape: [2, 16, 16]
        batchSize: 2
        steps: 3
        seed: 1
        threads: 1
        output: \(output.path)
        network:
          inputChannels: 1
          outputChannels: 1
          depth: 2
          baseWidth: 4
          widthMultiplier: 2
          kernelSizes: [[1, 3, 3], [1, 3, 3]]
          poolingFactors: [[1, 2, 2]]
          convolutionsPerLevel: 2
          padding: same
        loss: {bceWeight: 1, diceWeight: 1, positiveWeight: 5, diceSmoothing: 1}
        augmentation: {missingSectionProbability: 0.1}
        \(extra)
        """
    }

    func write(_ text: String, name: String = "train.yaml") throws -> String {
        let path = try TestEnvironment.temporaryDirectory("train-config").appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func logLines(_ output: URL) throws -> [[String: Any]] {
        try String(contentsOf: output.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    @Test("emflow validate checks a training configuration, problems at their lines")
    func validateTrainingConfiguration() throws {
        let output = try TestEnvironment.temporaryDirectory("train-validate")
        let good = try runEmflow(["validate", try write(config(output))])
        #expect(good.status == 0 && good.stdout.contains("valid training configuration"), "\(good.stdout)\(good.stderr)")
        let bad = try runEmflow(["validate", try write(config(output).replacingOccurrences(of: "batchSize: 2", with: "batchSise: 2"), name: "bad.yaml")])
        #expect(bad.status == 1 && bad.stderr.contains("bad.yaml:9:") && bad.stderr.contains("unknown key 'batchSise'"), "\(bad.stderr)")
        let shipped = try runEmflow(["validate", TestEnvironment.repositoryRoot.appendingPathComponent("pipelines/train-vnc-synapse.yaml").path])
        #expect(shipped.status == 0, "\(shipped.stderr)")
    }

    @Test func trainsLogsValidatesAndResumes() throws {
        let output = try TestEnvironment.temporaryDirectory("train-out")
        let path = try write(config(output))
        let result = try runEmflow(["train", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("trained to step 3"), "\(result.stdout)")
        var lines = try logLines(output)
        #expect(lines.map { $0["step"] as? Int } == [1, 2, 3])
        #expect(lines.allSatisfy { ($0["loss"] as? Double ?? -1) > 0 })
        let validation = lines[1]["validation"] as? [String: Any]
        #expect(validation?["averagePrecision"] != nil && validation?["bestF1"] != nil)
        for file in ["last/model.safetensors", "last/training_state.json", "best/model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file)")
        }
        let resumed = try runEmflow(["train", path, "--steps", "5", "--resume", output.appendingPathComponent("last").path, "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        lines = try logLines(output)
        #expect(lines.map { $0["step"] as? Int } == [1, 2, 3, 4, 5])
    }

    @Test func badConfigurationsGiveClearErrors() throws {
        let output = try TestEnvironment.temporaryDirectory("train-bad")
        let good = config(output)
        let cases: [(text: String, mentions: [String])] = [
            (good.replacingOccurrences(of: "batchSize: 2", with: "batchSise: 2"), [":9:", "unknown key 'batchSise'", "batchSize"]),
            (good.replacingOccurrences(of: "  depth: 2", with: "  detph: 2"), [":17:", "unknown key 'detph' in 'network'", "depth"]),
            (config(output, raw: "/nowhere/missing.h5:volumes/raw"), ["missing.h5"]),
            (good.replacingOccurrences(of: "steps: 3", with: "steps: many"), [":10:", "'steps'"]),
            (good.replacingOccurrences(of: "patchShape: [2, 16, 16]", with: "patchShape: [2, 15, 16]"), ["patchShape", "sizes that work"]),
            (good.replacingOccurrences(of: "output: ", with: "# output: "), ["missing key 'output'"]),
        ]
        for (text, mentions) in cases {
            let result = try runEmflow(["train", try write(text), "--quiet"])
            #expect(result.status == 1)
            for mention in mentions { #expect(result.stderr.contains(mention), "expected '\(mention)' in: \(result.stderr)") }
        }
    }
}
