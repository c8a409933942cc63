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
        train_region: "0:6,0:48,0:48"
        validation:
          region: "6:8,0:48,0:48"
          every: 2
          block_shape: [2, 16, 16]
        patch_shape: [2, 16, 16]
        batch_size: 2
        steps: 3
        seed: 1
        threads: 1
        output: \(output.path)
        network:
          input_channels: 1
          output_channels: 1
          depth: 2
          base_width: 4
          width_multiplier: 2
          kernel_sizes: [[1, 3, 3], [1, 3, 3]]
          pooling_factors: [[1, 2, 2]]
          convolutions_per_level: 2
          padding: same
        loss: {bce_weight: 1, dice_weight: 1, positive_weight: 5, dice_smoothing: 1}
        augmentation: {missing_section_probability: 0.1}
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
        let bad = try runEmflow(["validate", try write(config(output).replacingOccurrences(of: "batch_size: 2", with: "batch_sise: 2"), name: "bad.yaml")])
        #expect(bad.status == 1 && bad.stderr.contains("bad.yaml:9:") && bad.stderr.contains("unknown key 'batch_sise'"), "\(bad.stderr)")
        let shipped = try runEmflow(["validate", TestEnvironment.repositoryRoot.appendingPathComponent("pipelines/train-vnc-synapse.yaml").path])
        #expect(shipped.status == 0, "\(shipped.stderr)")
    }

    @Test("emflow validate and train read the older camelCase keys, each with a deprecation warning at its line")
    func camelCaseKeysAreDeprecated() throws {
        let output = try TestEnvironment.temporaryDirectory("train-camel")
        var camel = config(output)
        for (old, new) in [("batch_size", "batchSize"), ("patch_shape", "patchShape"), ("base_width", "baseWidth")] {
            camel = camel.replacingOccurrences(of: old + ":", with: new + ":")
        }
        let path = try write(camel, name: "camel.yaml")
        let result = try runEmflow(["validate", path])
        #expect(result.status == 0 && result.stdout.contains("valid training configuration"), "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("warning: \(path):9: 'batchSize' is the older camelCase spelling: write 'batch_size'"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "warning: ").count - 1 == 3, "\(result.stderr)")
        let snake = try runEmflow(["validate", try write(config(output))])
        let summary = { (text: String) in text.components(separatedBy: ": ").dropFirst().joined(separator: ": ") }
        #expect(summary(snake.stdout) == summary(result.stdout) && !snake.stderr.contains("warning"), "\(snake.stdout)\(snake.stderr)")
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
            (good.replacingOccurrences(of: "batch_size: 2", with: "batch_sise: 2"), [":9:", "unknown key 'batch_sise'", "batch_size"]),
            (good.replacingOccurrences(of: "  depth: 2", with: "  detph: 2"), [":17:", "unknown key 'detph' in 'network'", "depth"]),
            (config(output, raw: "/nowhere/missing.h5:volumes/raw"), ["missing.h5"]),
            (good.replacingOccurrences(of: "steps: 3", with: "steps: many"), [":10:", "'steps'"]),
            (good.replacingOccurrences(of: "patch_shape: [2, 16, 16]", with: "patch_shape: [2, 15, 16]"), ["patch_shape", "sizes that work"]),
            (good.replacingOccurrences(of: "output: ", with: "# output: "), ["missing key 'output'"]),
        ]
        for (text, mentions) in cases {
            let result = try runEmflow(["train", try write(text), "--quiet"])
            #expect(result.status == 1)
            for mention in mentions { #expect(result.stderr.contains(mention), "expected '\(mention)' in: \(result.stderr)") }
        }
    }
}
