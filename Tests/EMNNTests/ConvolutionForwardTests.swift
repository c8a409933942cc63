import EMNN
import EMVolume
import Testing

@Suite("Convolution forward against a naive reference")
struct ConvolutionForwardTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var inputChannels: Int, outputChannels: Int, kernel: Coordinate, padding: Padding, spatial: Coordinate, batch: Int
        var testDescription: String { "\(inputChannels)->\(outputChannels) k\(kernel) \(padding) \(batch)x\(spatial)" }
    }

    static let cases: [Case] = [
        Case(inputChannels: 1, outputChannels: 5, kernel: Coordinate(3, 3, 3), padding: .same, spatial: Coordinate(6, 7, 8), batch: 1),
        Case(inputChannels: 3, outputChannels: 13, kernel: Coordinate(1, 3, 3), padding: .valid, spatial: Coordinate(4, 9, 7), batch: 2),
        Case(inputChannels: 16, outputChannels: 16, kernel: Coordinate(3, 3, 3), padding: .same, spatial: Coordinate(5, 6, 7), batch: 1),
        Case(inputChannels: 11, outputChannels: 8, kernel: Coordinate(3, 3, 3), padding: .valid, spatial: Coordinate(5, 6, 7), batch: 1),
        Case(inputChannels: 24, outputChannels: 9, kernel: Coordinate(1, 1, 1), padding: .same, spatial: Coordinate(3, 4, 5), batch: 2),
        Case(inputChannels: 8, outputChannels: 12, kernel: Coordinate(2, 3, 1), padding: .same, spatial: Coordinate(4, 5, 6), batch: 1),
    ]

    @Test("forward matches the naive loop", arguments: cases)
    func forwardMatchesReference(_ c: Case) throws {
        let context = try ComputeContext()
        for relu in [false, true] {
            let conv = try Convolution(name: "c", inputChannels: c.inputChannels, outputChannels: c.outputChannels, kernel: c.kernel,
                                       padding: c.padding, fusedReLU: relu, context: context, seed: 7)
            conv.bias.value = randomValues(c.outputChannels, seed: 3)
            let shape = TensorShape(batch: c.batch, channels: c.inputChannels, spatial: c.spatial)
            let values = randomValues(shape.elementCount, seed: 11)
            let output = try conv.forward(Tensor(shape: shape, values: values), training: false)
            let low = c.padding == .same ? c.kernel.map { ($0 - 1) / 2 } : .zero
            var expected = Reference.convolution(values, shape, weight: conv.weight.value, bias: conv.bias.value,
                                                 outputChannels: c.outputChannels, kernel: c.kernel, low: low,
                                                 outputSpatial: output.shape.spatial)
            if relu { expected = expected.map { max($0, 0) } }
            let expectedSpatial = c.padding == .same ? c.spatial : c.spatial - c.kernel + Coordinate(repeating: 1)
            #expect(output.shape.spatial == expectedSpatial)
            #expect(maxDifference(output.toArray(), expected) < 1e-4, "relu \(relu) layout \(output.layout)")
            let implementations = try conv.implementations(for: shape)
            #expect(!implementations.forward.hasPrefix("ref") && !implementations.backwardData.hasPrefix("ref"), "\(implementations)")
        }
    }

    @Test("transposed convolution matches the naive loop")
    func transposedMatchesReference() throws {
        let context = try ComputeContext()
        // The last case is large enough for the sgemm path to split each sample into several tiles.
        for (ci, co, factor, spatial) in [(16, 8, Coordinate(2, 2, 2), Coordinate(3, 4, 5)), (5, 3, Coordinate(1, 2, 2), Coordinate(3, 4, 5)),
                                          (32, 16, Coordinate(1, 2, 2), Coordinate(3, 4, 5)), (8, 16, Coordinate(2, 2, 2), Coordinate(4, 64, 80))] {
            let up = try TransposedConvolution(name: "u", inputChannels: ci, outputChannels: co, kernel: factor, stride: factor,
                                               context: context, seed: 5)
            up.bias.value = randomValues(co, seed: 9)
            let shape = TensorShape(batch: 2, channels: ci, spatial: spatial)
            let values = randomValues(shape.elementCount, seed: 2)
            let output = try up.forward(Tensor(shape: shape, values: values), training: false)
            let expected = Reference.transposedConvolution(values, shape, weight: up.weight.value, bias: up.bias.value,
                                                           outputChannels: co, kernel: factor, stride: factor)
            #expect(output.shape.spatial == shape.spatial * factor)
            #expect(maxDifference(output.toArray(), expected) < 1e-4)
            let implementations = try up.implementations(for: shape)
            #expect(!implementations.forward.hasPrefix("ref") && !implementations.backwardData.hasPrefix("ref"), "\(implementations)")
        }
    }
}
