import EMNN
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

@Suite("Training sessions", .serialized)
struct TrainingSessionTests {
    static let network = UNetConfiguration(depth: 2, baseWidth: 4, widthMultiplier: 2,
                                           kernelSizes: [Coordinate(1, 3, 3), Coordinate(1, 3, 3)],
                                           poolingFactors: [Coordinate(1, 2, 2)], seed: 4)

    func configuration(output: URL, steps: Int, validationEvery: Int? = nil) -> TrainingConfiguration {
        TrainingConfiguration(raw: "memory", label: "memory",
                              validation: validationEvery.map { .init(every: $0, blockShape: [4, 16, 16]) },
                              patchShape: [4, 16, 16], batchSize: 2, steps: steps, foregroundFraction: 0.5, seed: 7,
                              network: Self.network, optimizer: AdamConfiguration(learningRate: 3e-3),
                              loss: LossConfiguration(positiveWeight: 5),
                              augmentation: AugmentationConfiguration(missingSectionProbability: 0.2, misalignmentProbability: 0.2),
                              output: output.path, checkpointEvery: 3, threads: 1)
    }

    func session(_ configuration: TrainingConfiguration, resume: URL? = nil) throws -> TrainingSession {
        let training = try syntheticTrainingVolume(Coordinate(6, 40, 40), seed: 1)
        let validation = try syntheticTrainingVolume(Coordinate(5, 24, 36), seed: 2)
        return try TrainingSession(configuration: configuration, training: training,
                                   validation: (validation, validation.raw.box), resume: resume)
    }

    @Test("two runs with one seed give identical losses; the log has one line per step")
    func determinism() throws {
        let a = try TestEnvironment.temporaryDirectory("train-a"), b = try TestEnvironment.temporaryDirectory("train-b")
        let first = try session(configuration(output: a, steps: 4, validationEvery: 2)).run()
        let second = try session(configuration(output: b, steps: 4, validationEvery: 2)).run()
        #expect(first.map(\.loss) == second.map(\.loss))
        #expect(first.map(\.validation) == second.map(\.validation))
        #expect(first.map(\.step) == [1, 2, 3, 4])
        #expect(first[1].validation != nil && first[0].validation == nil)
        let lines = try String(contentsOf: a.appendingPathComponent(TrainingSession.logFile), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        let decoded = try lines.map { try JSONDecoder().decode(TrainingRecord.self, from: Data($0.utf8)) }
        #expect(decoded.map(\.loss) == first.map(\.loss))
        for directory in [TrainingSession.bestDirectory, TrainingSession.lastDirectory] {
            #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent(directory).appendingPathComponent(CheckpointFile.model).path))
        }
        // Another seed samples other patches.
        var other = configuration(output: try TestEnvironment.temporaryDirectory("train-c"), steps: 2)
        other.seed = 8
        #expect(try session(other).run().map(\.loss) != first.prefix(2).map(\.loss))
    }

    @Test("a cosine schedule sets each step's learning rate, from the configured one down towards 0")
    func cosineSchedule() throws {
        var config = configuration(output: try TestEnvironment.temporaryDirectory("train-cosine"), steps: 6)
        config.optimizer.schedule = .cosine
        let run = try session(config)
        var rates: [Float] = [], changes: [Float] = []
        var previous = run.trainer.network.parameters.map(\.value)
        try run.run { _ in
            rates.append(run.trainer.optimizer.configuration.learningRate)
            let now = run.trainer.network.parameters.map(\.value)
            changes.append(zip(previous, now).map { maxDifference($0, $1) }.max()!)
            previous = now
        }
        let expected = (0..<6).map { Float(3e-3 * (1 + cos(Double.pi * Double($0) / 6)) / 2) }
        #expect(maxDifference(rates, expected) < 1e-9, "\(rates)")
        #expect(changes.last! < changes.first! / 2, "largest weight change per step: \(changes)")
        #expect(AdamConfiguration(learningRate: 0.01).learningRate(atStep: 5, of: 6) == 0.01)
    }

    @Test("resuming from the step-3 checkpoint equals an uninterrupted run")
    func resumeEqualsUninterrupted() throws {
        let whole = try TestEnvironment.temporaryDirectory("train-whole"), parts = try TestEnvironment.temporaryDirectory("train-parts")
        let uninterrupted = try session(configuration(output: whole, steps: 6))
        let full = try uninterrupted.run()
        let interrupted = try session(configuration(output: parts, steps: 6))
        let firstHalf = try interrupted.run(until: 3)
        let resumed = try session(configuration(output: parts, steps: 6), resume: parts.appendingPathComponent(TrainingSession.lastDirectory))
        #expect(resumed.step == 3)
        let secondHalf = try resumed.run()
        #expect((firstHalf + secondHalf).map(\.loss) == full.map(\.loss))
        for (p, q) in zip(uninterrupted.trainer.network.parameters, resumed.trainer.network.parameters) {
            #expect(p.value == q.value, "\(p.name)")
        }
        let lines = try String(contentsOf: parts.appendingPathComponent(TrainingSession.logFile), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
    }

    @Test("with weight averaging, checkpoints hold the average, validation uses it and resuming is exact")
    func weightAveraging() throws {
        var averaged = configuration(output: try TestEnvironment.temporaryDirectory("train-average"), steps: 6, validationEvery: 3)
        averaged.optimizer.averageDecay = 0.8
        let whole = try session(averaged)
        let full = try whole.run()
        let last = URL(fileURLWithPath: averaged.output).appendingPathComponent(TrainingSession.lastDirectory)
        let saved = try UNet(checkpoint: last, threads: 1)
        for parameter in saved.parameters {
            #expect(parameter.value == whole.trainer.optimizer.averages[parameter.name], "\(parameter.name)")
        }
        // Validation saw the averaged network: recomputing it with the saved average agrees.
        let validation = try syntheticTrainingVolume(Coordinate(5, 24, 36), seed: 2)
        let metrics = try saved.validate(on: validation, region: validation.raw.box, blockOutput: try averaged.blockShape(),
                                         loss: averaged.loss)
        let logged = try #require(full.last?.validation)
        #expect(abs(metrics.loss - logged.loss) < 1e-5 && abs(metrics.averagePrecision - logged.averagePrecision) < 1e-5)
        var parts = averaged
        parts.output = try TestEnvironment.temporaryDirectory("train-average-parts").path
        let firstHalf = try session(parts).run(until: 3)
        let resumed = try session(parts, resume: URL(fileURLWithPath: parts.output).appendingPathComponent(TrainingSession.lastDirectory))
        let secondHalf = try resumed.run()
        #expect((firstHalf + secondHalf).map(\.loss) == full.map(\.loss))
        #expect((firstHalf + secondHalf).map(\.validation) == full.map(\.validation))
        for (p, q) in zip(whole.trainer.network.parameters, resumed.trainer.network.parameters) {
            #expect(p.value == q.value, "\(p.name)")
            #expect(whole.trainer.optimizer.averages[p.name] == resumed.trainer.optimizer.averages[q.name], "\(p.name)")
        }
    }

    @Test("blockwise validation prediction equals one whole-region pass")
    func blockwiseEqualsWhole() throws {
        var config = Self.network
        config.padding = .same
        let net = try UNet(configuration: config, threads: 1)
        let data = try syntheticTrainingVolume(Coordinate(4, 40, 40), seed: 5)
        let region = Box(offset: Coordinate(0, 4, 6), shape: Coordinate(4, 28, 26))
        let blockwise = try net.predictLogits(data, region: region, blockOutput: Coordinate(4, 8, 8))
        // Reference: the region plus the halo in one forward pass, cropped.
        let whole = try net.predictLogits(data, region: region, blockOutput: region.shape)
        #expect(blockwise.box == region)
        let difference = zip(blockwise.storage, whole.storage).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 1e-4)
    }

    /// `region` of the shared VNC training stack (raw and synapse mask).
    func vncTraining(region: String) throws -> TrainingVolume {
        let file = TestEnvironment.sharedData!.appendingPathComponent("vnc-synapse/train.h5").path
        return try TrainingVolume.load(raw: file + ":volumes/raw", label: file + ":volumes/labels/synapse", region: try Box.parse(region))
    }

    @Test("overfits a 4x48x48 crop of the VNC training stack with synapses",
          .enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)))
    func overfitsRealCrop() throws {
        let data = try vncTraining(region: "0:4,224:272,64:112")
        let share = Double(data.foreground.count) / Double(data.raw.box.voxelCount)
        #expect(share > 0.02 && share < 0.2)
        let network = UNetConfiguration(depth: 2, baseWidth: 16, widthMultiplier: 2,
                                        kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3)],
                                        poolingFactors: [Coordinate(1, 2, 2)], seed: 1)
        let output = try TestEnvironment.temporaryDirectory("overfit")
        let configuration = TrainingConfiguration(raw: "memory", label: "memory", patchShape: [4, 48, 48], batchSize: 1, steps: 100,
                                                  foregroundFraction: 0, network: network,
                                                  optimizer: AdamConfiguration(learningRate: 5e-3),
                                                  loss: LossConfiguration(positiveWeight: 5), augmentation: .none,
                                                  output: output.path, checkpointEvery: 1000, threads: 2)
        let records = try TrainingSession(configuration: configuration, training: data, validation: nil).run()
        let start = records[0].loss, end = records.suffix(5).map(\.loss).max()!
        print("overfit: loss \(start) -> \(end) in \(records.count) steps, \(records.last!.seconds) s")
        #expect(end < 0.05 * start)
        #expect(end < 0.1)
        // The trained network (reloaded from its checkpoint) separates the crop's synapse voxels
        // from the rest when it sees the crop as in training: alone, zero-padded at its borders.
        let trained = try TrainingSession(configuration: configuration, training: data, validation: nil,
                                          resume: output.appendingPathComponent(TrainingSession.lastDirectory)).trainer.network
        let crop = data.patch(data.raw.box)
        let probabilities = try trained.forward(Tensor(volume: crop.raw), training: false).toArray().map { 1 / (1 + exp(-$0)) }
        let metrics = probabilities.withUnsafeBufferPointer { p in
            crop.label.storage.withUnsafeBufferPointer { ValidationMetrics(probabilities: p, labels: $0) }
        }
        #expect(metrics.averagePrecision > 0.95 && metrics.bestF1 > 0.9, "AP \(metrics.averagePrecision), F1 \(metrics.bestF1)")
    }

    @Test("augmented training batches of the VNC stack keep labels on their (dark) synapse voxels",
          .enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)))
    func batchesKeepLabelsAligned() throws {
        let data = try vncTraining(region: "0:20,0:512,0:896")
        // The source's own statistics: mean intensity of synapse voxels and of all voxels.
        var sourceSynapse = 0.0, sourceAll = 0.0
        data.raw.storage.withUnsafeBufferPointer { r in
            for i in 0..<r.count { sourceAll += Double(r[i]) / 255 }
            for i in data.foreground { sourceSynapse += Double(r[i]) / 255 }
        }
        sourceAll /= Double(data.raw.box.voxelCount)
        sourceSynapse /= Double(data.foreground.count)
        var configuration = configuration(output: try TestEnvironment.temporaryDirectory("train-batches"), steps: 1)
        configuration.patchShape = [16, 128, 128]
        configuration.network = UNetConfiguration(depth: 3, baseWidth: 2, kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3), Coordinate(3, 3, 3)],
                                                  poolingFactors: [Coordinate(1, 2, 2), Coordinate(1, 2, 2)])
        configuration.augmentation = AugmentationConfiguration(intensityScale: 0, intensityShift: 0)
        let session = try TrainingSession(configuration: configuration, training: data, validation: nil)
        var labelled = 0.0, labelledCount = 0.0, patches = 0, patchesWithSynapse = 0
        for step in 0..<40 {
            let (input, target) = try session.batch(step: step)
            let image = input.toArray(), label = target.toArray()
            #expect(image.count == label.count, "same-padding network: the target covers the whole patch")
            let perPatch = label.count / configuration.batchSize
            for n in 0..<configuration.batchSize {
                var found = false
                for i in (n * perPatch)..<((n + 1) * perPatch) where label[i] > 0.5 {
                    labelled += Double(image[i])
                    labelledCount += 1
                    found = true
                }
                patches += 1
                if found { patchesWithSynapse += 1 }
            }
        }
        let batchSynapse = labelled / labelledCount
        print("batches: labelled voxels \(batchSynapse), source synapses \(sourceSynapse), all voxels \(sourceAll), "
            + "\(patchesWithSynapse) of \(patches) patches with synapses")
        // Flips and rotations move image and label together: labelled voxels in the batches are
        // as dark as synapse voxels in the source (not the mean intensity of everything).
        #expect(abs(batchSynapse - sourceSynapse) < 0.03, "labelled voxels in batches \(batchSynapse), synapses in the source \(sourceSynapse)")
        #expect(sourceAll - sourceSynapse > 0.2, "synapses \(sourceSynapse) against all voxels \(sourceAll)")
        // Half the patches are centred on a synapse voxel; random ones also hit synapses sometimes.
        #expect(Double(patchesWithSynapse) / Double(patches) >= 0.5, "\(patchesWithSynapse) of \(patches) patches hold synapse voxels")
    }
}
