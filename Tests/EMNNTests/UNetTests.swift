import EMNN
import EMVolume
import Foundation
import Testing

@Suite("U-Net")
struct UNetTests {
    static let small = UNetConfiguration(depth: 2, baseWidth: 4, widthMultiplier: 2,
                                         kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3)],
                                         poolingFactors: [Coordinate(1, 2, 2)], seed: 3)

    func randomVolume(_ shape: Coordinate, seed: UInt64, offset: Coordinate = .zero) -> Volume<Float> {
        Volume(box: Box(offset: offset, shape: shape), storage: randomValues(shape.product, seed: seed))
    }

    @Test("receptive field, halo and output sizes", arguments: [Padding.same, Padding.valid])
    func geometry(_ padding: Padding) throws {
        var c = Self.small
        c.padding = padding
        // z: 1 + 0 + 0 (1x3x3 convs) + 0 (pool 1) + 2*2*1 (3x3x3 at jump 1) + 0 = 5.
        // y, x: 1 + 4 (two 3-wide convs) + 1 (pool 2) + 2*2*2 (jump 2) + 4 (decoder) = 18.
        #expect(c.receptiveField == Coordinate(5, 18, 18))
        #expect(c.blockAlignment == Coordinate(1, 2, 2))
        switch padding {
        case .same:
            #expect(try c.outputSize(for: Coordinate(5, 12, 16)) == Coordinate(5, 12, 16))
            // y, x: a voxel at an even position depends on inputs 8 before and 9 after it, one at
            // an odd position on 9 before and 8 after: the halo is 9 rounded up to the alignment,
            // one more than half the receptive field. z has no pooling: (rf - 1) / 2.
            #expect(c.halo == Coordinate(2, 10, 10))
        case .valid:
            // z: 9 -> 9 -> pool 1 -> 5 -> up -> 5 -> 5; y: 24 -> 20 -> 10 -> 6 -> 12 -> 8.
            #expect(try c.outputSize(for: Coordinate(9, 24, 24)) == Coordinate(5, 8, 8))
            #expect(c.halo == Coordinate(2, 8, 8))
            #expect(try c.inputSize(forOutput: Coordinate(5, 8, 8)) == Coordinate(9, 24, 24))
        }
    }

    @Test("empirical receptive field: one input voxel influences at most rf outputs per axis")
    func empiricalReceptiveField() throws {
        let net = try UNet(configuration: Self.small)
        for layer in net.parameters where layer.shape.count == 1 { layer.value = layer.value.map { _ in 0.1 } }
        let base = randomVolume(Coordinate(9, 40, 40), seed: 1)
        var changed = base
        changed[4, 20, 21] += 10
        let a = try net.forward(Tensor(volume: base), training: false).volume()
        let b = try net.forward(Tensor(volume: changed), training: false).volume()
        var low = Coordinate(repeating: .max), high = Coordinate(repeating: .min)
        for z in 0..<9 { for y in 0..<40 { for x in 0..<40 where a[z, y, x] != b[z, y, x] {
            low = Coordinate.minimum(low, Coordinate(z, y, x)); high = Coordinate.maximum(high, Coordinate(z, y, x))
        }}}
        let extent = high - low + Coordinate(repeating: 1)
        let rf = net.receptiveField
        #expect(Coordinate.all(extent, rf, <=), "influence extent \(extent), receptive field \(rf)")
        #expect(Coordinate.all(extent, rf - net.configuration.blockAlignment, >=), "influence extent \(extent), receptive field \(rf)")
    }

    @Test("a block predicted with its halo equals the same region of a whole-volume prediction", arguments: [Padding.same, Padding.valid])
    func haloIsSufficient(_ padding: Padding) throws {
        var c = Self.small
        c.padding = padding
        let net = try UNet(configuration: c, threads: 2)
        let whole = randomVolume(Coordinate(13, 48, 48), seed: 4)
        let full = try net.predict(whole)[0]
        // A block whose origin is aligned to the pooling grid.
        let region = Box(offset: Coordinate(3, 10, 12), shape: Coordinate(3, 8, 12))
        let block = whole.cropped(to: region.grown(by: net.halo))
        let predicted = try net.predict(block)[0]
        // Same padding predicts every voxel of the block, valid padding the block less the halo.
        #expect(predicted.box == (padding == .same ? block.box : region))
        let part = predicted.cropped(to: region)
        #expect(maxDifference(part.storage, full.cropped(to: region).storage) < 1e-5)
        // A batch gives the same as one block at a time.
        let other = whole.cropped(to: Box(offset: Coordinate(1, 0, 2), shape: block.shape))
        let batch = try net.predict([block, other])
        #expect(maxDifference(batch[0][0].storage, predicted.storage) < 1e-6)
        #expect(batch[1][0].box == (try net.predict(other)[0].box))
        #expect(maxDifference(batch[1][0].storage, try net.predict(other)[0].storage) < 1e-6)
    }

    @Test("blocks read with readBox(forOutput:in:) reproduce one pass over the volume alone, at its faces too")
    func readBoxesStopAtFaces() throws {
        let net = try UNet(configuration: Self.small, threads: 2)
        let alignment = net.configuration.blockAlignment, halo = net.halo
        // x is not a multiple of the pooling: the far x face is read one voxel past the volume.
        let bounds = Box(shape: Coordinate(7, 30, 27))
        let volume = randomVolume(bounds.shape, seed: 9)
        let alignedEnd = Coordinate.ceilDivide(bounds.end, alignment) * alignment
        // The reference: the network over the volume alone, as over a training patch, zero-extended
        // at the far faces to a size it accepts.
        var extended = Volume<Float>(box: Box(shape: alignedEnd))
        extended.paste(volume)
        let whole = try net.predict(extended)[0]
        let interior = Box(offset: Coordinate(3, 12, 12), shape: Coordinate(1, 6, 4))
        let outputs = [Box(shape: Coordinate(3, 8, 8)), interior, Box(offset: bounds.end - Coordinate(3, 8, 7), shape: Coordinate(3, 8, 7))]
        for output in outputs {
            let read = try net.configuration.readBox(forOutput: output, in: bounds)
            #expect(Coordinate.all(read.offset, bounds.offset, >=) && Coordinate.all(read.end, alignedEnd, <=), "\(read)")
            #expect(Coordinate.all(read.offset, alignment, { $0 % $1 == 0 }) && Coordinate.all(read.shape, alignment, { $0 % $1 == 0 }))
            var input = Volume<Float>(box: read)
            input.paste(volume)
            let part = try net.predict(input)[0].cropped(to: output)
            #expect(maxDifference(part.storage, whole.cropped(to: output).storage) < 1e-5, "\(output)")
        }
        // Inside the volume a block reads its output grown by the halo, no more.
        #expect(try net.configuration.readBox(forOutput: interior, in: bounds) == interior.grown(by: halo))
        // Padding the image with dark voxels instead changes the prediction near the faces.
        var padded = Volume<Float>(box: Box(offset: Coordinate.zero - halo, shape: alignedEnd + halo * 2))
        padded.paste(volume)
        let darkFaces = try net.predict(padded)[0].cropped(to: bounds)
        #expect(maxDifference(darkFaces.storage, whole.cropped(to: bounds).storage) > 1e-3)
        #expect(throws: NNError.self) { try net.configuration.readBox(forOutput: Box(offset: Coordinate(9, 0, 0), shape: Coordinate(2, 4, 4)), in: bounds) }
    }

    @Test("input normalisation equals feeding the standardised input, forward and in the weight gradients")
    func inputNormalization() throws {
        var normalized = Self.small
        normalized.inputNormalization = InputNormalization(mean: 0.4, standardDeviation: 0.25)
        let a = try UNet(configuration: normalized, threads: 1), b = try UNet(configuration: Self.small, threads: 1)
        let image = randomVolume(Coordinate(3, 16, 16), seed: 12).map { ($0 + 1) / 2 }
        let logitsA = try a.forward(Tensor(volume: image), training: true)
        let logitsB = try b.forward(Tensor(volume: image.map { ($0 - 0.4) / 0.25 }), training: true)
        #expect(maxDifference(logitsA.volume().storage, logitsB.volume().storage) < 1e-5)
        let outputGradient = Tensor(volume: randomVolume(image.shape, seed: 13))
        try a.backward(outputGradient)
        try b.backward(outputGradient)
        for (p, q) in zip(a.parameters, b.parameters) {
            #expect(maxDifference(p.gradient, q.gradient) < 1e-4 * max(1, q.gradient.map(abs).max()!), "\(p.name)")
        }
        #expect(throws: NNError.self) {
            var bad = Self.small
            bad.inputNormalization = InputNormalization(mean: 0.5, standardDeviation: 0)
            try bad.validate()
        }
    }

    @Test("He and PyTorch-default initialisations draw within their bounds with their variances", arguments: WeightInitialization.allCases)
    func initialization(_ initialization: WeightInitialization) throws {
        let configuration = UNetConfiguration(depth: 2, baseWidth: 16, kernelSizes: [Coordinate(3, 3, 3), Coordinate(3, 3, 3)],
                                              poolingFactors: [Coordinate(2, 2, 2)], seed: 3, initialization: initialization)
        let net = try UNet(configuration: configuration)
        let layer = "encoder.1.conv1", fanIn = 32 * 27
        let weight = try #require(net.parameters.first { $0.name == "\(layer).weight" })
        let bias = try #require(net.parameters.first { $0.name == "\(layer).bias" })
        let bound = initialization == .he ? (6.0 / Double(fanIn)).squareRoot() : 1 / Double(fanIn).squareRoot()
        let variance = weight.value.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(weight.value.count)
        #expect(weight.value.allSatisfy { abs(Double($0)) <= bound })
        #expect(abs(variance / (bound * bound / 3) - 1) < 0.05, "variance \(variance) vs \(bound * bound / 3)")
        if initialization == .he {
            #expect(bias.value.allSatisfy { $0 == 0 })
        } else {
            #expect(bias.value.allSatisfy { abs(Double($0)) <= bound } && bias.value.contains { $0 != 0 })
        }
        // The choice is part of the saved configuration; a configuration without it means He.
        let decoded = try JSONDecoder().decode(UNetConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(decoded.initialization == initialization)
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any])
        object["initialization"] = nil
        let legacy = try JSONDecoder().decode(UNetConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(legacy.initialization == .he)
    }

    @Test("nonsense configurations and inputs are refused with what would work")
    func refusals() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        var c = Self.small
        c.baseWidth = 0
        #expect(message { try c.validate() }.contains("must be positive"))
        c = Self.small
        c.widthMultiplier = 0.1
        #expect(message { try c.validate() }.contains("width multiplier of at least"))
        c = Self.small
        c.kernelSizes = [Coordinate(1, 2, 2), Coordinate(3, 3, 3)]
        #expect(message { try c.validate() }.contains("odd"))
        c = Self.small
        c.poolingFactors = []
        #expect(message { try c.validate() }.contains("give depth - 1 = 1"))
        c = Self.small
        c.normalizationGroups = 3
        #expect(message { try c.validate() }.contains("divisible"))
        c = Self.small
        #expect(message { _ = try c.outputSize(for: Coordinate(5, 13, 16)) }.contains("sizes that work on this axis: 12 or 14"))
        c.padding = .valid
        let tooSmall = message { _ = try c.outputSize(for: Coordinate(9, 12, 24)) }
        #expect(tooSmall.contains("nothing is left") && tooSmall.contains("sizes that work on this axis: 18"), "\(tooSmall)")
        #expect(message { _ = try c.outputSize(for: Coordinate(9, 25, 24)) }.contains("24 or 26"))
        #expect(throws: NNError.self) { try UNet(configuration: UNetConfiguration(depth: 0)) }
    }

    @Test("whole-network parameter gradients match finite differences of the loss")
    func networkGradient() throws {
        var c = Self.small
        c.normalizationGroups = 2
        let net = try UNet(configuration: c)
        let input = Tensor(volume: randomVolume(Coordinate(3, 8, 8), seed: 5))
        let targetValues = randomValues(input.shape.elementCount, seed: 6).map { Float($0 > 0.3 ? 1 : 0) }
        let target = try Tensor(shape: TensorShape(channels: 1, spatial: input.shape.spatial), values: targetValues)
        let loss = LossConfiguration(positiveWeight: 3)
        func evaluate() throws -> Double {
            let logits = try net.forward(input, training: false)
            return Double(try SegmentationLoss.evaluate(logits: logits, target: target, configuration: loss).value.total)
        }
        net.zeroGradients()
        let logits = try net.forward(input, training: true)
        try net.backward(try SegmentationLoss.evaluate(logits: logits, target: target, configuration: loss).gradient)
        let largest = net.parameters.flatMap(\.gradient).reduce(0) { max($0, abs($1)) }
        let checker = GradientChecker(epsilon: 1e-2, absolute: 2e-3 * largest, relative: 5e-2, piecewiseLinear: true)
        var compared = 0
        for (index, parameter) in net.parameters.enumerated() {
            let gradient = parameter.gradient
            let outcome = try checker.compare(indices: [index % parameter.value.count, parameter.value.count / 2],
                                              analytic: { gradient[$0] }, perturb: { parameter.value[$0] += $1 },
                                              evaluate: evaluate, label: parameter.name)
            #expect(outcome.failures.isEmpty, "\(outcome.failures)")
            compared += outcome.compared
        }
        #expect(compared >= net.parameters.count, "only \(compared) samples away from kinks")
    }

    @Test("training steps drive the loss down on a learnable task")
    func training() throws {
        let net = try UNet(configuration: Self.small, threads: 2)
        let trainer = UNetTrainer(network: net, optimizer: AdamConfiguration(learningRate: 1e-2, gradientClipNorm: 10),
                                  loss: LossConfiguration(positiveWeight: 2))
        let image = randomVolume(Coordinate(4, 16, 16), seed: 8)
        // Foreground where a smoothed version of the image is bright: a local, learnable rule.
        var label = Volume<Float>(shape: image.shape)
        for z in 0..<4 { for y in 1..<15 { for x in 1..<15 {
            let s = image[z, y, x] + image[z, y - 1, x] + image[z, y + 1, x] + image[z, y, x - 1] + image[z, y, x + 1]
            label[z, y, x] = s > 1.2 ? 1 : 0
        }}}
        let input = Tensor(volume: image), target = Tensor(volume: label)
        let first = try trainer.step(input: input, target: target)
        var last = first
        for _ in 0..<60 { last = try trainer.step(input: input, target: target) }
        #expect(last.total < 0.5 * first.total, "loss \(first.total) -> \(last.total)")
        #expect(trainer.optimizer.step == 61)
        // Ignored voxels do not count: a mask of zeros gives zero BCE.
        let ignoreAll = Tensor(shape: target.shape)
        #expect(try trainer.evaluate(input: input, target: target, weightMask: ignoreAll).bce == 0)
    }
}
