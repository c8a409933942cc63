import EMEvaluation
import EMNN
@testable import EMPipeline
import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// The train and evaluate stages (whole-volume steps before and after the blocks) in real
/// pipelines over generated volumes, compared with calling TrainingSession / Evaluator directly.
@Suite("Train and evaluate stages", .serialized)
struct StepStageTests {
    static let shape = Coordinate(8, 32, 32)

    /// A generated image (uint8) and its synapse-like truth (uint8 0/1 blobs of the same field).
    static func saveData(in directory: URL) throws -> (raw: String, truth: String, field: Volume<Float>) {
        let field = smoothField(shape, seed: 21)
        let raw = directory.path + "/data.zarr/raw", truth = directory.path + "/data.zarr/truth"
        try writeVolume(field.map { UInt8(($0 * 255).rounded()) }, to: raw, chunks: Coordinate(8, 16, 16))
        try writeVolume(field.map { $0 > 0.62 ? UInt8(1) : 0 }, to: truth, chunks: Coordinate(8, 16, 16))
        return (raw, truth, field)
    }

    /// The keys of an `emflow train` configuration, indented for a stage.
    static func trainKeys(raw: String, label: String, output: String, steps: Int = 3) -> String {
        """
            raw: \(raw)
            label: \(label)
            train_region: "0:6,0:32,0:32"
            validation:
              region: "6:8,0:32,0:32"
              every: 2
              block_shape: [2, 16, 16]
            patch_shape: [2, 16, 16]
            batch_size: 2
            steps: \(steps)
            seed: 1
            threads: 1
            output: \(output)
            network:
              input_channels: 1
              output_channels: 1
              depth: 2
              base_width: 4
              width_multiplier: 2
              kernel_sizes: [[1, 3, 3], [1, 3, 3]]
              pooling_factors: [[1, 2, 2]]
              convolutions_per_level: 1
              padding: same
        """
    }

    static func run(_ yaml: String, in directory: URL, name: String = "pipeline.yaml") throws -> RunSummary {
        let pipeline = try PipelineLoader.load(file: try writePipeline(yaml, in: directory, name: name))
        return try PipelineRunner(pipeline: pipeline, options: RunOptions(version: "test")).run()
    }

    @Test("evaluate on stored volumes reports the numbers Evaluator computes directly")
    func evaluateEqualsEvaluator() throws {
        let directory = try TestEnvironment.temporaryDirectory("evaluate-stage")
        let (_, truth, field) = try Self.saveData(in: directory)
        // A noisy prediction of the truth: the field shifted by a little noise.
        var generator = SeededGenerator(seed: 9)
        let prediction = directory.path + "/prediction.zarr/p"
        try writeVolume(field.map { min(1, max(0, $0 + Float.random(in: -0.04...0.04, using: &generator))) }, to: prediction, chunks: Coordinate(4, 16, 16))
        let report = directory.path + "/report"
        let summary = try Self.run("""
            execution:
              block_shape: 8,16,16
            stages:
              check:
                kind: evaluate
                prediction: \(prediction)
                truth: \(truth)
                output: \(report)
                threshold: 0.6
                match_tolerance: 40
                minimum_size: 2
                overlays: 1
            """, in: directory)
        #expect(summary.succeeded, "\(summary)")
        #expect(summary.pass("check", "evaluate")?.done == 1)
        let written = try ReportWriter.read(from: URL(fileURLWithPath: report + "/report.json"))
        let stage = try #require(written.runs.first?.volumes.first)

        var options = EvaluationOptions(threshold: 0.6)
        options.objects = ObjectOptions(minimumSize: .voxels(2), criterion: .centreDistance(tolerance: 40))
        options.overlaySections = 1
        let direct = try Evaluator.evaluate(prediction: try Stores.open(try StoreAddress.parse(prediction)),
                                            truth: try Stores.open(try StoreAddress.parse(truth)), name: "check", options: options)
        #expect(stage.voxel.counts == direct.voxel.counts)
        #expect(stage.voxel.f1 == direct.voxel.f1)
        #expect(stage.voxel.curve.averagePrecision == direct.voxel.curve.averagePrecision)
        #expect(stage.objects?.f1 == direct.objects?.f1)
        #expect(stage.objects?.counts == direct.objects?.counts)
        #expect(stage.cremi?.mean == direct.cremi?.mean)
        #expect(direct.voxel.f1 > 0.5 && direct.voxel.f1 < 1, "the noisy prediction should be good but not perfect")
        for file in ["report.html", "report.md"] { #expect(FileManager.default.fileExists(atPath: report + "/" + file)) }
    }

    @Test("train -> predict (model: train) -> write -> detect -> evaluate in one pipeline; a re-run skips the training")
    func trainPredictEvaluate() throws {
        let directory = try TestEnvironment.temporaryDirectory("train-stage")
        let (raw, truth, _) = try Self.saveData(in: directory)
        let model = directory.path + "/model", report = directory.path + "/report", detections = directory.path + "/synapses.csv"
        let yaml = """
            execution:
              block_shape: 8,16,16
              workers: 2
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: model))
              prediction:
                kind: predict
                input: \(raw)
                model: train
                threads: 1
              save:
                kind: write
                input: prediction
                output: \(directory.path)/out.zarr/prediction
              synapses:
                kind: detect
                input: prediction
                csv: \(detections)
              check:
                kind: evaluate
                prediction: save
                truth: \(truth)
                output: \(report)
            """
        let summary = try Self.run(yaml, in: directory)
        #expect(summary.succeeded, "\(summary)")
        #expect(summary.pass("train", "train")?.done == 1)
        #expect(summary.pass("check", "evaluate")?.done == 1)

        // The prediction is the trained network's (the best checkpoint, as validation is set).
        let network = try UNet(checkpoint: URL(fileURLWithPath: model + "/best"), threads: 1)
        let image = try readVolume(raw, as: UInt8.self).map { Float($0) / 255 }
        let written = try readVolume(directory.path + "/out.zarr/prediction", as: Float.self)
        #expect(PredictTests.maxDifference(written, try PredictTests.wholeVolume(network, image)) < 1e-5)

        // The report holds voxel F1 and PR-AUC of that prediction.
        let evaluation = try #require(try ReportWriter.read(from: URL(fileURLWithPath: report + "/report.json")).runs.first?.volumes.first)
        let direct = try Evaluator.evaluate(prediction: try Stores.open(try StoreAddress.parse(directory.path + "/out.zarr/prediction")),
                                            truth: try Stores.open(try StoreAddress.parse(truth)), name: "check")
        #expect(evaluation.voxel.f1.isFinite && evaluation.voxel.curve.averagePrecision.isFinite)
        #expect(evaluation.voxel.f1 == direct.voxel.f1 && evaluation.voxel.curve.averagePrecision == direct.voxel.curve.averagePrecision)
        #expect(FileManager.default.fileExists(atPath: detections))

        // A second run reuses the model and the written blocks; the evaluation runs again.
        let again = try Self.run(yaml, in: directory)
        #expect(again.pass("train", "train")?.skipped == 1 && again.pass("train", "train")?.done == 0)
        #expect(again.pass("save", "write")?.done == 0)
        #expect(again.pass("check", "evaluate")?.done == 1)

        // Training data regenerated at the same addresses: the training runs again, and so
        // does every block predicted with its model.
        let field = smoothField(Self.shape, seed: 22)
        try FileManager.default.removeItem(atPath: raw)
        try writeVolume(field.map { UInt8(($0 * 255).rounded()) }, to: raw, chunks: Coordinate(8, 16, 16))
        let regenerated = try Self.run(yaml, in: directory)
        #expect(regenerated.pass("train", "train")?.done == 1, "\(regenerated)")
        #expect(regenerated.pass("save", "write")?.skipped == 0, "\(regenerated)")
    }

    @Test("a failed training leaves the stages after it not attempted, and the run failed")
    func failedTraining() throws {
        let directory = try TestEnvironment.temporaryDirectory("train-fails")
        let (raw, truth, _) = try Self.saveData(in: directory)
        let summary = try Self.run("""
            execution:
              block_shape: 8,16,16
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "/proc/emflow-cannot-write/model"))
              prediction:
                kind: predict
                input: \(raw)
                model: train
              save:
                kind: write
                input: prediction
                output: \(directory.path)/out.zarr/prediction
              check:
                kind: evaluate
                prediction: save
                truth: \(truth)
                output: \(directory.path)/report
            """, in: directory)
        #expect(!summary.succeeded)
        #expect(summary.pass("train", "train")?.failed == 1)
        #expect(summary.pass("save", "write")?.failures.first?.message.contains("not attempted") == true)
        #expect(summary.pass("check", "evaluate")?.failures.first?.message.contains("not attempted") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/out.zarr"))
    }

    @Test("a train stage in the older camelCase keys reads the same configuration, with one deprecation per key at its line")
    func camelCaseTrainingKeys() throws {
        let directory = try TestEnvironment.temporaryDirectory("step-camel")
        let (raw, truth, _) = try Self.saveData(in: directory)
        let snake = Self.trainKeys(raw: raw, label: truth, output: directory.path + "/m")
        var camel = snake
        for (old, new) in [("train_region", "trainRegion"), ("block_shape", "blockShape"), ("patch_shape", "patchShape"),
                           ("batch_size", "batchSize"), ("base_width", "baseWidth")] {
            camel = camel.replacingOccurrences(of: old + ":", with: new + ":")
        }
        func load(_ keys: String) throws -> Pipeline {
            try PipelineLoader.load(yaml: "stages:\n  train:\n    kind: train\n" + keys + "\n", file: "p.yaml")
        }
        let (fromSnake, fromCamel) = (try load(snake), try load(camel))
        #expect(fromSnake.warnings.isEmpty)
        let configuration = { (p: Pipeline) in p.stage("train")?.parameters(of: TrainStage.self)?.configuration }
        #expect(try JSONFiles.text(configuration(fromCamel)) == JSONFiles.text(configuration(fromSnake)))
        #expect(fromCamel.stage("train")?.values == fromSnake.stage("train")?.values, "the recorded values (fingerprint) do not depend on the spelling")
        let notes = fromCamel.warnings.map(\.description)
        #expect(notes.count == 5, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("p.yaml:6: stage 'train': parameter 'train_region': 'trainRegion' is the older camelCase spelling: write 'train_region'") },
                "\(notes)")
        #expect(notes.contains { $0.hasPrefix("p.yaml:21: stage 'train': parameter 'network.base_width': 'baseWidth'") }, "\(notes)")
    }

    @Test("malformed parameters of detect, evaluate and train give errors at their lines")
    func lineNumberedErrors() throws {
        let directory = try TestEnvironment.temporaryDirectory("step-errors")
        let (raw, truth, _) = try Self.saveData(in: directory)
        let small = directory.path + "/small.zarr/label"
        try writeVolume(Volume<UInt8>(shape: Coordinate(4, 32, 32)), to: small, chunks: Coordinate(4, 16, 16))
        func problems(_ yaml: String) -> String {
            do {
                _ = try PipelineLoader.load(yaml: yaml, file: "p.yaml")
                return ""
            } catch {
                return "\(error)"
            }
        }
        let cases: [(String, [String])] = [
            ("""
            stages:
              objects:
                kind: detect
                input: \(raw)
                threshold: high
                csv: d.csv
            """, ["p.yaml:5", "threshold", "expected a number"]),
            ("""
            stages:
              objects:
                kind: detect
                input: \(raw)
                connectivity: 8
            """, ["p.yaml:5", "connectivity", "one of 6, 18, 26"]),
            ("""
            stages:
              objects:
                kind: detect
                input: \(raw)
            """, ["p.yaml:2", "csv: detections.csv"]),
            ("""
            stages:
              check:
                kind: evaluate
                prediction: \(raw)
                truth: \(truth)
                output: r
                match_tolerance: -3
            """, ["p.yaml:7", "match_tolerance", "at least 0"]),
            ("""
            stages:
              check:
                kind: evaluate
                prediction: \(raw)
                truth: \(directory.path)/missing.zarr/t
                output: r
            """, ["p.yaml:5", "missing input"]),
            ("""
            stages:
              check:
                kind: evaluate
                prediction: \(truth)
                truth: \(raw)
                output: r
                overlays: many
            """, ["p.yaml:7", "overlays"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "m").replacingOccurrences(of: "batch_size: 2", with: "batch_sise: 2"))
            """, ["p.yaml:12", "unknown key 'batch_sise'", "batch_size"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "m").replacingOccurrences(of: "steps: 3", with: "steps: many"))
            """, ["p.yaml:13", "'steps'"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "m").replacingOccurrences(of: "      depth: 2", with: "      detph: 2"))
            """, ["p.yaml:20", "unknown key 'detph' in 'network'"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: directory.path + "/none.zarr/raw", label: truth, output: "m"))
            """, ["p.yaml:4", "missing input", "none.zarr"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "m").replacingOccurrences(of: "0:6,0:32,0:32", with: "0:6,0:32,0:40"))
            """, ["p.yaml:6", "train_region 0:6,0:32,0:40 is not inside the raw image of shape 8,32,32"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: small, output: "m"))
            """, ["p.yaml:5", "the label has shape 4,32,32, the raw image 8,32,32"]),
            ("""
            stages:
              train:
                kind: train
            \(Self.trainKeys(raw: raw, label: truth, output: "m"))
              prediction:
                kind: predict
                input: \(raw)
                model: save
              save:
                kind: write
                input: prediction
                output: out.zarr/p
            """, ["p.yaml:33", "cycle"]),
            ("""
            stages:
              prediction:
                kind: threshold
                input: \(raw)
                value: 0.5
              check:
                kind: evaluate
                prediction: prediction
                truth: \(truth)
                output: r
            """, ["p.yaml:8", "is a threshold stage", "write stage"]),
        ]
        for (yaml, mentions) in cases {
            let message = problems(yaml)
            for mention in mentions { #expect(message.contains(mention), "expected '\(mention)' in: \(message)\n\(yaml)") }
        }
    }
}
