import EMVolume

/// Prediction of blocks with their halo.
extension UNet {
    /// Foreground probabilities (sigmoid of the logits) for the central part of `input`: the input
    /// minus `halo` on every side. Input sizes must pass `UNetConfiguration.outputSize(for:)`.
    public func predict(_ input: Tensor) throws -> Tensor {
        var probabilities = try forward(input, training: false)
        mapRealElements(&probabilities, logistic)
        let expected = input.shape.spatial - halo * 2
        guard Coordinate.all(expected, .zero, >) else {
            throw NNError.shapeMismatch("input \(input.shape.spatial) is not larger than twice the halo \(halo); "
                + "use at least \(try configuration.inputSize(forOutput: Coordinate(repeating: 1)))")
        }
        if probabilities.shape.spatial == expected { return probabilities.converted(to: .plain) }
        let offset = Coordinate.floorDivide(probabilities.shape.spatial - expected, Coordinate(repeating: 2))
        return try probabilities.cropped(to: Box(offset: offset, shape: expected)).converted(to: .plain)
    }

    /// Probabilities for one block given with its halo, one volume per output channel, placed at
    /// the block's box shrunk by the halo (so they land where they belong in the whole volume).
    public func predict(_ block: Volume<Float>) throws -> [Volume<Float>] {
        try predict([block])[0]
    }

    /// Probabilities for several equally sized blocks in one batch.
    public func predict(_ blocks: [Volume<Float>]) throws -> [[Volume<Float>]] {
        let output = try predict(Tensor(batch: blocks))
        return blocks.enumerated().map { n, block in
            (0..<configuration.outputChannels).map { c in
                var volume = output.volume(batch: n, channel: c)
                volume.box = Box(offset: block.box.offset + halo, shape: volume.shape)
                return volume
            }
        }
    }
}
