import EMNN
import EMVolume
import Foundation
import Testing
import TestSupport

@Suite("Pruning: training runs", .serialized)
struct PruningTrainingTests {
    func configuration(output: URL, pruning: PruningConfiguration, steps: Int) -> TrainingConfiguration {
        TrainingConfiguration(raw: "memory", label: "memory", validation: .init(every: 10, blockShape: [4, 16, 16]),
                              patchShape: [4, 16, 16], batchSize: 2, steps: steps, foregroundFraction: 0.5, seed: 7,
                              network: UNetConfiguration(depth: 2, baseWidth: 8, widthMultiplier: 2,
                                                         kernelSizes: [Coordinate(1, 3, 3), Coordinate(1, 3, 3)],
                                                         poolingFactors: [Coordinate(1, 2, 2)], seed: 4),
                              optimizer: AdamConfiguration(learningRate: 3e-3), loss: LossConfiguration(positiveWeight: 5),
                              augmentation: .none, output: output.path, checkpointEvery: 10, threads: 1, pruning: pruning)
    }

    func session(_ configuration: TrainingConfiguration, resume: URL? = nil) throws -> TrainingSession {
        let training = try syntheticTrainingVolume(Coordinate(6, 40, 40), seed: 1)
        let validation = try syntheticTrainingVolume(Coordinate(5, 24, 36), seed: 2)
        return try TrainingSession(configuration: configuration, training: training, validation: (validation, validation.raw.box), resume: resume)
    }

    @Test("bb-both on a synthetic problem follows the density schedule to the target and the loss still falls")
    func bbBothSchedule() throws {
        let output = try TestEnvironment.temporaryDirectory("prune-bb-both")
        let pruning = PruningConfiguration(method: .bbBoth, targetDensity: 0.3, warmup: 6, refreshEvery: 3, rampSteps: 18)
        let run = try session(configuration(output: output, pruning: pruning, steps: 60))
        let records = try run.run()
        let refreshes = records.compactMap(\.pruning)
        #expect(refreshes.map(\.step) == Array(stride(from: 6, through: 60, by: 3)))
        for r in refreshes {
            // Exactly round(scheduled x prunable) slabs are kept at every refresh.
            #expect(r.keptSlabs == Int((r.scheduledDensity * Double(r.prunableSlabs)).rounded()), "step \(r.step)")
            #expect(r.beta != nil && r.entropy > 0 && r.meanAbsoluteCorrelation != nil)
            #expect(r.units.count == r.layers.reduce(0) { $0 + $1.units })
        }
        #expect(refreshes.first!.density == 1)
        let final = refreshes.filter { $0.step >= 24 }
        #expect(!final.isEmpty && final.allSatisfy { abs(Double($0.keptSlabs) - 0.3 * Double($0.prunableSlabs)) <= 1 })
        #expect(abs(run.pruner!.currentDensity! - 0.3) * Double(refreshes[0].prunableSlabs) <= 1)
        let first = records.prefix(10).map(\.loss).reduce(0, +) / 10, last = records.suffix(10).map(\.loss).reduce(0, +) / 10
        print("bb-both: loss \(first) -> \(last); final entropy \(final.last!.entropy), |r| \(final.last!.meanAbsoluteCorrelation!), "
            + "beta \(final.last!.beta!), fitted \(final.last!.fittedBeta ?? .nan)")
        #expect(last < first)
        // The log carries the diagnostics; the best checkpoint comes from the target density.
        let lines = try String(contentsOf: output.appendingPathComponent(TrainingSession.logFile), encoding: .utf8).split(separator: "\n")
        let logged = try lines.map { try JSONDecoder().decode(TrainingRecord.self, from: Data($0.utf8)) }
        #expect(logged.compactMap(\.pruning) == refreshes)
        let state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: output.appendingPathComponent("best/training_state.json")))
        #expect(state.step >= 24)
        // Resuming restores the on-rates and masks: the next refresh equals an uninterrupted run's.
        let resumed = try session(configuration(output: output, pruning: pruning, steps: 60),
                                  resume: output.appendingPathComponent(TrainingSession.lastDirectory))
        #expect(resumed.pruner!.tracker.onRates.map { $0 ?? -1 } == run.pruner!.tracker.onRates.map { $0 ?? -1 })
        #expect(resumed.pruner!.reachedTarget)
    }

    @Test("dense records diagnostics on the schedule without masks")
    func denseDiagnostics() throws {
        let output = try TestEnvironment.temporaryDirectory("prune-dense")
        let records = try session(configuration(output: output, pruning: PruningConfiguration(method: .dense, refreshEvery: 4), steps: 8)).run()
        let refreshes = records.compactMap(\.pruning)
        #expect(refreshes.map(\.step) == [4, 8])
        #expect(refreshes.allSatisfy { $0.density == 1 && $0.beta == nil && $0.fittedBeta != nil })
        // On-rates are fractions of positive voxels.
        #expect(refreshes[1].units.allSatisfy { (0...1).contains($0.onRate) })
    }

    @Test("on-rate of a channel is its fraction of positive voxels, averaged with rate alpha")
    func onRates() throws {
        var tensor = Tensor(shape: TensorShape(batch: 2, channels: 3, spatial: Coordinate(1, 2, 2)))
        for n in 0..<2 { for v in 0..<4 { tensor[n, 0, 0, v / 2, v % 2] = v < 3 ? 1 : 0; tensor[n, 1, 0, v / 2, v % 2] = -1 } }
        tensor[1, 2, 0, 0, 0] = 0.5
        let blocked = tensor.converted(to: .blocked(8))
        #expect(OnRateTracker.positiveFractions(blocked) == [0.75, 0, 0.125])
        let network = try oneLevelNetwork(width: 3)
        let tracker = OnRateTracker(graph: ConnectivityGraph(network: network), rate: 0.5)
        tracker.observe(layer: "encoder.0.conv1", activation: blocked)
        tracker.observe(layer: "encoder.0.conv1", activation: Tensor(shape: tensor.shape))
        let nodes = tracker.onRates.compactMap { $0 }
        #expect(nodes == [0.375, 0, 0.0625])
    }
}
