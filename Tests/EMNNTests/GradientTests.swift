import Foundation
import EMNN
import EMVolume
import Testing

@Suite("Backward passes against finite differences")
struct GradientTests {
    let context: ComputeContext

    init() throws { context = try ComputeContext() }

    func randomTensor(_ shape: TensorShape, seed: UInt64, layout: TensorLayout = .plain) throws -> Tensor {
        try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: seed)).converted(to: layout)
    }

    @Test("convolution: kernels, padding modes, odd channel counts, batch", arguments: [
        (1, 5, Coordinate(3, 3, 3), Padding.same),
        (3, 10, Coordinate(1, 3, 3), Padding.valid),
        (11, 8, Coordinate(3, 3, 3), Padding.same),
        (16, 3, Coordinate(3, 3, 3), Padding.valid),
        (9, 12, Coordinate(2, 1, 3), Padding.same),
    ])
    func convolution(_ ci: Int, _ co: Int, _ kernel: Coordinate, _ padding: Padding) throws {
        let conv = try Convolution(name: "conv", inputChannels: ci, outputChannels: co, kernel: kernel, padding: padding,
                                   context: context, seed: 3)
        conv.bias.value = randomValues(co, seed: 4, in: 0...0.5)
        let input = try randomTensor(TensorShape(batch: 2, channels: ci, spatial: Coordinate(4, 5, 6)), seed: 5,
                                     layout: ci >= 8 ? .blocked(8) : .plain)
        try GradientChecker().check(conv, input: input)
    }

    /// A fused ReLU's backward pass must equal the plain convolution's backward pass applied to
    /// the gradient masked where the output is zero (ReLU itself is checked by finite differences).
    @Test("convolution with fused ReLU equals convolution then ReLU", arguments: [(3, 10), (11, 8)])
    func fusedReLU(_ ci: Int, _ co: Int) throws {
        let fused = try Convolution(name: "f", inputChannels: ci, outputChannels: co, kernel: Coordinate(3, 3, 3),
                                    fusedReLU: true, context: context, seed: 3)
        let plain = try Convolution(name: "p", inputChannels: ci, outputChannels: co, kernel: Coordinate(3, 3, 3),
                                    context: context, seed: 3)
        let relu = ReLU()
        let input = try randomTensor(TensorShape(batch: 2, channels: ci, spatial: Coordinate(4, 5, 6)), seed: 5, layout: .blocked(8))
        let y = try fused.forward(input, training: true)
        let z = try relu.forward(try plain.forward(input, training: true), training: true)
        #expect(maxDifference(y.toArray(), z.toArray()) < 1e-6)
        let r = try Tensor(shape: y.shape, values: randomValues(y.shape.elementCount, seed: 6))
        let dxFused = try fused.backward(r)
        let dxPlain = try plain.backward(try relu.backward(r))
        #expect(maxDifference(dxFused.toArray(), dxPlain.toArray()) < 1e-5)
        #expect(maxDifference(fused.weight.gradient, plain.weight.gradient) < 1e-4)
        #expect(maxDifference(fused.bias.gradient, plain.bias.gradient) < 1e-4)
        #expect(fused.bias.gradient.contains { $0 != 0 })
    }

    @Test("convolution weight gradient tiled over depth equals the untiled one")
    func tiledWeightGradient() throws {
        let conv = try Convolution(name: "conv", inputChannels: 8, outputChannels: 5, kernel: Coordinate(3, 3, 3),
                                   context: context, seed: 8)
        let input = try randomTensor(TensorShape(channels: 8, spatial: Coordinate(7, 6, 5)), seed: 2, layout: .blocked(8))
        let output = try conv.forward(input, training: true)
        let r = try Tensor(shape: output.shape, values: randomValues(output.shape.elementCount, seed: 3))
        conv.weight.zeroGradient()
        _ = try conv.backward(r)
        let untiled = conv.weight.gradient
        conv.weightGradientBudget = 8 * 27 * 6 * 5 * 4 * 2   // two output slices per tile
        conv.weight.zeroGradient()
        _ = try conv.backward(r)
        #expect(maxDifference(conv.weight.gradient, untiled) < 1e-4)
    }

    @Test("transposed convolution", arguments: [(8, 5, Coordinate(2, 2, 2)), (3, 9, Coordinate(1, 2, 2))])
    func transposedConvolution(_ ci: Int, _ co: Int, _ factor: Coordinate) throws {
        let up = try TransposedConvolution(name: "up", inputChannels: ci, outputChannels: co, kernel: factor, stride: factor,
                                           context: context, seed: 6)
        up.bias.value = randomValues(co, seed: 1)
        let input = try randomTensor(TensorShape(batch: 2, channels: ci, spatial: Coordinate(2, 3, 3)), seed: 7,
                                     layout: ci >= 8 ? .blocked(8) : .plain)
        try GradientChecker().check(up, input: input)
    }

    @Test("max-pooling", arguments: [Coordinate(1, 2, 2), Coordinate(2, 2, 2)])
    func maxPooling(_ factor: Coordinate) throws {
        let pool = try MaxPooling(factor: factor, context: context)
        let shape = TensorShape(batch: 2, channels: 11, spatial: Coordinate(4, 6, 4))
        let values = randomValues(shape.elementCount, seed: 9)
        let input = try Tensor(shape: shape, values: values).converted(to: .blocked(8))
        let output = try pool.forward(input, training: false)
        #expect(maxDifference(output.toArray(), Reference.maxPool(values, shape, factor: factor)) == 0)
        try GradientChecker(piecewiseLinear: true).check(pool, input: input)
        // Plain inputs (one channel, as a network input, or several) pool the same way.
        for channels in [1, 3] {
            let plainShape = TensorShape(batch: 1, channels: channels, spatial: Coordinate(2, 4, 6))
            let plainValues = randomValues(plainShape.elementCount, seed: 10)
            let plain = try pool.forward(try Tensor(shape: plainShape, values: plainValues), training: true)
            #expect(maxDifference(plain.toArray(), Reference.maxPool(plainValues, plainShape, factor: factor)) == 0)
        }
    }

    @Test("group normalisation", arguments: [(12, 3, TensorLayout.blocked(8)), (6, 2, TensorLayout.plain), (8, 8, TensorLayout.blocked(8))])
    func groupNormalization(_ channels: Int, _ groups: Int, _ layout: TensorLayout) throws {
        let norm = try GroupNormalization(name: "norm", channels: channels, groups: groups)
        norm.gamma.value = randomValues(channels, seed: 2, in: 0.5...1.5)
        norm.beta.value = randomValues(channels, seed: 3)
        let input = try randomTensor(TensorShape(batch: 2, channels: channels, spatial: Coordinate(2, 3, 4)), seed: 4, layout: layout)
        let output = try norm.forward(input, training: false).toArray()
        // Reference: normalise each (sample, group) directly.
        let values = input.toArray(), voxels = 24, size = channels / groups
        for n in 0..<2 {
            for g in 0..<groups {
                let range = (n * channels + g * size) * voxels..<(n * channels + (g + 1) * size) * voxels
                let mean = range.reduce(0.0) { $0 + Double(values[$1]) } / Double(range.count)
                let variance = range.reduce(0.0) { $0 + (Double(values[$1]) - mean) * (Double(values[$1]) - mean) } / Double(range.count)
                for i in range {
                    let c = (i / voxels) % channels
                    let expected = (Double(values[i]) - mean) / (variance + 1e-5).squareRoot() * Double(norm.gamma.value[c]) + Double(norm.beta.value[c])
                    #expect(abs(Double(output[i]) - expected) < 1e-4)
                }
            }
        }
        try GradientChecker(epsilon: 1e-2, absolute: 3e-3, relative: 2e-2).check(norm, input: input)
    }

    /// Per-channel sums (group statistics, gamma, beta and bias gradients) run over storage in
    /// partial sums of a few hundred voxels; these inputs span several such runs, in blocked
    /// layouts with padded lanes and in plain layout, against naive Double loops.
    @Test("group normalisation and bias gradients over many voxels", arguments: [TensorLayout.blocked(8), .blocked(16), .plain])
    func channelSumsOverManyVoxels(_ layout: TensorLayout) throws {
        let (channels, groups, batch) = (12, 3, 2), size = channels / groups
        let shape = TensorShape(batch: batch, channels: channels, spatial: Coordinate(3, 10, 11))
        let voxels = shape.spatial.product
        let norm = try GroupNormalization(name: "norm", channels: channels, groups: groups)
        norm.gamma.value = randomValues(channels, seed: 2, in: 0.5...1.5)
        norm.beta.value = randomValues(channels, seed: 3)
        let input = try randomTensor(shape, seed: 4, layout: layout), outputGradient = try randomTensor(shape, seed: 9, layout: layout)
        let output = try norm.forward(input, training: true).toArray()
        let inputGradient = try norm.backward(outputGradient).toArray()
        let x = input.toArray().map(Double.init), dy = outputGradient.toArray().map(Double.init)
        let gamma = norm.gamma.value.map(Double.init), beta = norm.beta.value.map(Double.init)
        var gammaGradient = [Double](repeating: 0, count: channels), betaGradient = gammaGradient
        for n in 0..<batch {
            for g in 0..<groups {
                let range = (n * channels + g * size) * voxels..<(n * channels + (g + 1) * size) * voxels
                let mean = range.reduce(0.0) { $0 + x[$1] } / Double(range.count)
                let variance = range.reduce(0.0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / Double(range.count)
                let r = 1 / (variance + 1e-5).squareRoot()
                let normalized = { (i: Int) in (x[i] - mean) * r }
                let scaledGradient = { (i: Int) in dy[i] * gamma[(i / voxels) % channels] }
                let meanScaled = range.reduce(0.0) { $0 + scaledGradient($1) } / Double(range.count)
                let meanScaledNormalized = range.reduce(0.0) { $0 + scaledGradient($1) * normalized($1) } / Double(range.count)
                for i in range {
                    let c = (i / voxels) % channels
                    #expect(abs(Double(output[i]) - (normalized(i) * gamma[c] + beta[c])) < 1e-4)
                    let expected = r * (scaledGradient(i) - meanScaled - normalized(i) * meanScaledNormalized)
                    #expect(abs(Double(inputGradient[i]) - expected) < 1e-4)
                    gammaGradient[c] += dy[i] * normalized(i)
                    betaGradient[c] += dy[i]
                }
            }
        }
        for c in 0..<channels {
            #expect(abs(Double(norm.gamma.gradient[c]) - gammaGradient[c]) < 1e-3 * max(1, abs(gammaGradient[c])))
            #expect(abs(Double(norm.beta.gradient[c]) - betaGradient[c]) < 1e-3 * max(1, abs(betaGradient[c])))
        }
        // A convolution's bias gradient is the per-channel sum of its output gradient.
        let conv = try Convolution(name: "conv", inputChannels: channels, outputChannels: channels, kernel: Coordinate(1, 1, 1),
                                   context: context, seed: 3)
        _ = try conv.forward(input, training: true)
        _ = try conv.backward(outputGradient)
        for c in 0..<channels {
            #expect(abs(Double(conv.bias.gradient[c]) - betaGradient[c]) < 1e-3 * max(1, abs(betaGradient[c])))
        }
    }

    @Test("ReLU and sigmoid")
    func activations() throws {
        let shape = TensorShape(batch: 1, channels: 10, spatial: Coordinate(2, 3, 3))
        // Inputs kept away from ReLU's kink so no finite-difference step crosses it.
        var values = randomValues(shape.elementCount, seed: 5, in: 0.1...1)
        let signs = randomValues(shape.elementCount, seed: 6)
        for i in values.indices where signs[i] < 0 { values[i] = -values[i] }
        let input = try Tensor(shape: shape, values: values).converted(to: .blocked(8))
        try GradientChecker().check(ReLU(), input: input)
        let sigmoid = Sigmoid()
        try GradientChecker(epsilon: 1e-2, absolute: 1e-3, relative: 1e-2).check(sigmoid, input: input)
        let probabilities = try sigmoid.forward(input, training: false)
        #expect(maxDifference(probabilities.toArray(), values.map { 1 / (1 + exp(-$0)) }) < 1e-6)
        // Padded lanes of the blocked layout stay zero.
        probabilities.withUnsafeBufferPointer { p in
            for v in 0..<shape.spatial.product { for lane in 2..<8 { #expect(p[(shape.spatial.product + v) * 8 + lane] == 0) } }
        }
    }

    @Test("crop and concatenate")
    func cropConcatenate() throws {
        let op = CropConcatenate()
        let skip = try randomTensor(TensorShape(batch: 2, channels: 5, spatial: Coordinate(4, 8, 6)), seed: 1, layout: .blocked(8))
        let up = try randomTensor(TensorShape(batch: 2, channels: 11, spatial: Coordinate(2, 4, 4)), seed: 2, layout: .blocked(8))
        let output = try op.forward(skip: skip, up: up, training: true)
        #expect(output.shape == TensorShape(batch: 2, channels: 16, spatial: Coordinate(2, 4, 4)))
        for (n, c, z, y, x) in [(0, 0, 0, 0, 0), (1, 4, 1, 3, 3), (0, 5, 1, 2, 1), (1, 15, 0, 1, 2)] {
            let expected = c < 5 ? skip[n, c, z + 1, y + 2, x + 1] : up[n, c - 5, z, y, x]
            #expect(output[n, c, z, y, x] == expected)
        }
        // The backward pass is the adjoint: <concat(a, b), g> == <a, dskip> + <b, dup>.
        let g = try randomTensor(output.shape, seed: 3)
        let (dSkip, dUp) = try op.backward(g)
        let lhs = GradientChecker.weightedSum(output, g.toArray())
        let rhs = GradientChecker.weightedSum(skip, dSkip.toArray()) + GradientChecker.weightedSum(up, dUp.toArray())
        #expect(abs(lhs - rhs) < 1e-3)
        #expect(throws: NNError.self) { try op.forward(skip: skip, up: try randomTensor(TensorShape(batch: 2, channels: 1, spatial: Coordinate(3, 4, 4)), seed: 4), training: false) }
    }
}
