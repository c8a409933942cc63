import EMNN
import EMVolume
import Foundation
import Testing
import TestSupport

@Suite("Pruning: compaction")
struct CompactionTests {
    /// A depth-2 network pruned by magnitude to 60 % (rescaled masks), with hand-made dead units:
    /// one without fan-out, one without fan-in and a positive bias, one without fan-in and a
    /// negative bias, and one without fan-in feeding the upsampler.
    func prunedNetwork(padding: Padding) throws -> UNet {
        let configuration = UNetConfiguration(depth: 2, baseWidth: 4, widthMultiplier: 2,
                                              kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3)],
                                              poolingFactors: [Coordinate(1, 2, 2)], padding: padding, seed: 8)
        let network = try UNet(configuration: configuration, threads: 1)
        for parameter in network.parameters where parameter.name.hasSuffix(".bias") {
            parameter.value = randomValues(parameter.value.count, seed: UInt64(parameter.value.count), in: -0.2...0.2)
        }
        let pruner = Pruner(configuration: PruningConfiguration(method: .magnitude), network: network)
        let graph = pruner.graph
        var kept = pruner.select(density: 0.6).kept
        func unit(_ layer: String, _ channel: Int) -> Int { graph.layers[graph.layerIndex[layer]!].outputNodes[channel] }
        func setBias(_ layer: String, _ channel: Int, _ value: Float) {
            let bias = graph.layers[graph.layerIndex[layer]!].bias
            var values = bias.value
            values[channel] = value
            bias.value = values
        }
        for slab in graph.outgoing[unit("encoder.0.conv1", 1)] { kept[slab] = false }
        for slab in graph.incoming[unit("encoder.1.conv0", 3)] { kept[slab] = false }
        setBias("encoder.1.conv0", 3, 0.7)
        for slab in graph.incoming[unit("decoder.0.conv0", 0)] { kept[slab] = false }
        setBias("decoder.0.conv0", 0, -0.3)
        for slab in graph.incoming[unit("encoder.1.conv1", 2)] { kept[slab] = false }
        setBias("encoder.1.conv1", 2, 0.5)
        try pruner.install(kept)
        return network
    }

    @Test("the compacted network predicts what the masked one does (1e-5), with fewer channels and FLOPs",
          arguments: [Padding.valid, .same])
    func compactedEqualsMasked(padding: Padding) throws {
        let network = try prunedNetwork(padding: padding)
        let (compacted, report) = try Compaction.compact(network, threads: 1)
        let input = try network.configuration.inputSize(forOutput: Coordinate(2, 12, 12))
        let shape = TensorShape(batch: 2, channels: 1, spatial: input)
        let x = try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: 5, in: 0...1))
        let expected = try network.forward(x, training: false).toArray()
        let actual = try compacted.forward(x, training: false).toArray()
        #expect(actual.count == expected.count)
        #expect(maxDifference(actual, expected) < 1e-5, "max difference \(maxDifference(actual, expected))")
        let widths = Dictionary(uniqueKeysWithValues: report.layers.map { ($0.name, $0) })
        #expect(widths["encoder.0.conv1"]!.after <= 3)
        #expect(widths["encoder.1.conv0"]!.after <= (padding == .valid ? 7 : 8))
        #expect(widths["decoder.0.conv0"]!.after <= 3)
        #expect(report.removedWithoutFanOut >= 1 && report.removedWithoutFanIn >= (padding == .valid ? 2 : 1))
        // The unit feeding the upsampler keeps its constant (a transposed convolution spreads it
        // unevenly); with same padding the positive constant of encoder.1.conv0:3 stays too.
        #expect(report.constantUnitsKept == (padding == .valid ? 1 : 2))
        #expect(report.unitsAfter < report.unitsBefore)
        let before = try network.convolutionFLOPs(for: shape), after = try compacted.convolutionFLOPs(for: shape)
        #expect(after.dense < before.dense && after.sparse <= before.sparse)
        #expect(after.sparse < after.dense)
        // The compacted checkpoint (per-layer widths) loads back to the same predictions.
        let directory = try TestEnvironment.temporaryDirectory("compacted-\(padding)")
        try compacted.save(to: directory)
        let reloaded = try UNet(checkpoint: directory, threads: 1)
        #expect(reloaded.configuration.layerWidths == compacted.configuration.layerWidths)
        #expect(maxDifference(try reloaded.forward(x, training: false).toArray(), actual) == 0)
    }

    @Test("layers that lose every channel keep a zero placeholder; the prediction is still the masked one's")
    func wholeLayersDead() throws {
        let network = try oneLevelNetwork()
        for parameter in network.parameters where parameter.name.hasSuffix(".bias") {
            parameter.value = randomValues(parameter.value.count, seed: 3, in: -0.5...0.5)
        }
        let pruner = Pruner(configuration: PruningConfiguration(method: .magnitude), network: network)
        var kept = pruner.graph.keptSlabs()
        for slab in pruner.graph.prunableSlabs { kept[slab] = false }
        try pruner.install(kept)
        let (compacted, report) = try Compaction.compact(network, threads: 1)
        #expect(report.placeholderChannels == 2 && report.unitsAfter == 0)
        #expect(report.layers.map(\.after) == [1, 1])
        let shape = TensorShape(batch: 1, channels: 1, spatial: Coordinate(2, 8, 8))
        let x = try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: 6))
        let expected = try network.forward(x, training: false).toArray()
        #expect(maxDifference(try compacted.forward(x, training: false).toArray(), expected) < 1e-5)
        // The output is the constant head bias plus the folded ReLU(bias) of conv1's units.
        #expect(Set(expected.map { ($0 * 1e4).rounded() }).count == 1)
    }

    @Test("group normalisation is refused; unknown layer widths are refused")
    func refusals() throws {
        let normalised = try UNet(configuration: UNetConfiguration(depth: 1, baseWidth: 4, normalizationGroups: 2), threads: 1)
        #expect { try Compaction.compact(normalised) } throws: { "\($0)".contains("group normalisation") }
        var bad = UNetConfiguration(depth: 1, baseWidth: 4)
        bad.layerWidths = ["encoder.3.conv0": 2]
        #expect { try bad.validate() } throws: { "\($0)".contains("encoder.3.conv0") }
    }
}
