import EMNN
import EMVolume
import Testing

@Suite("Connectivity masks")
struct MaskTests {
    @Test("masked slabs are zero in the forward pass and get exactly zero gradient")
    func maskedSlabs() throws {
        let context = try ComputeContext()
        let conv = try Convolution(name: "c", inputChannels: 9, outputChannels: 6, kernel: Coordinate(3, 3, 3),
                                   fusedReLU: true, context: context, seed: 2)
        let mask = (0..<54).map { Float($0 % 4 == 1 || $0 / 9 == 3 ? 0 : 1) }
        try conv.weight.setMask(mask)
        let shape = TensorShape(batch: 2, channels: 9, spatial: Coordinate(4, 4, 5))
        let values = randomValues(shape.elementCount, seed: 3)
        let output = try conv.forward(Tensor(shape: shape, values: values).converted(to: .blocked(8)), training: true)
        var expected = Reference.convolution(values, shape, weight: conv.weight.effectiveValue, bias: conv.bias.value,
                                             outputChannels: 6, kernel: Coordinate(3, 3, 3), low: Coordinate(1, 1, 1),
                                             outputSpatial: shape.spatial)
        expected = expected.map { max($0, 0) }
        #expect(maxDifference(output.toArray(), expected) < 1e-4)
        // The unmasked weights still hold their values; only the forward pass ignores them.
        #expect(conv.weight.value != conv.weight.effectiveValue)
        conv.weight.zeroGradient()
        _ = try conv.backward(Tensor(shape: output.shape, values: randomValues(output.shape.elementCount, seed: 4)))
        for (slab, m) in mask.enumerated() {
            let gradient = conv.weight.gradient[slab * 27..<(slab + 1) * 27]
            if m == 0 {
                #expect(gradient.allSatisfy { $0 == 0 }, "slab \(slab)")
            } else {
                #expect(gradient.contains { $0 != 0 }, "slab \(slab)")
            }
        }
        // Output channel 3 is entirely masked: only the bias (through ReLU) remains.
        #expect(throws: NNError.self) { try conv.weight.setMask([1, 0]) }
    }

    @Test("transposed convolution masks act on [in, out] slabs")
    func transposedMask() throws {
        let context = try ComputeContext()
        let up = try TransposedConvolution(name: "u", inputChannels: 4, outputChannels: 3, kernel: Coordinate(1, 2, 2),
                                           stride: Coordinate(1, 2, 2), context: context, seed: 1)
        let mask: [Float] = [1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1]
        try up.weight.setMask(mask)
        let shape = TensorShape(channels: 4, spatial: Coordinate(2, 3, 3))
        let values = randomValues(shape.elementCount, seed: 5)
        let output = try up.forward(Tensor(shape: shape, values: values), training: true)
        let expected = Reference.transposedConvolution(values, shape, weight: up.weight.effectiveValue, bias: up.bias.value,
                                                       outputChannels: 3, kernel: Coordinate(1, 2, 2), stride: Coordinate(1, 2, 2))
        #expect(maxDifference(output.toArray(), expected) < 1e-5)
        up.weight.zeroGradient()
        _ = try up.backward(Tensor(shape: output.shape, values: randomValues(output.shape.elementCount, seed: 6)))
        for (slab, m) in mask.enumerated() where m == 0 {
            #expect(up.weight.gradient[slab * 4..<(slab + 1) * 4].allSatisfy { $0 == 0 })
        }
    }
}
