import EMVolume

/// Prediction of blocks read with `UNetConfiguration.readBox(forOutput:in:)`.
extension UNet {
    /// Foreground probabilities (sigmoid of the logits) of every voxel the network predicts from
    /// `input`: all of it with same padding, the input shrunk by the halo with valid padding.
    /// Input sizes must pass `UNetConfiguration.outputSize(for:)`.
    public func predict(_ input: Tensor) throws -> Tensor {
        var probabilities = try forward(input, training: false)
        mapRealElements(&probabilities, logistic)
        return probabilities.converted(to: .plain)
    }

    /// Probabilities for one block, one volume per output channel, placed where they belong in
    /// the whole volume: over the block's own box with same padding, over the block shrunk by
    /// the halo with valid padding. Crop them to the voxels wanted: with same padding, those
    /// within the halo of a face of the block that is not a face of the volume are not exact.
    public func predict(_ block: Volume<Float>) throws -> [Volume<Float>] {
        try predict([block])[0]
    }

    /// Probabilities for several equally sized blocks in one batch.
    public func predict(_ blocks: [Volume<Float>]) throws -> [[Volume<Float>]] {
        let output = try predict(Tensor(batch: blocks))
        return blocks.enumerated().map { n, block in
            let box = outputBox(forInput: block.box, outputShape: output.shape.spatial)
            return (0..<configuration.outputChannels).map { c in
                var volume = output.volume(batch: n, channel: c)
                volume.box = box
                return volume
            }
        }
    }

    /// Where a forward pass over `input` puts its `outputShape` voxels: on `input` itself with
    /// same padding, centred inside it with valid padding.
    func outputBox(forInput input: Box, outputShape: Coordinate) -> Box {
        Box(offset: input.offset + Coordinate.floorDivide(input.shape - outputShape, Coordinate(repeating: 2)), shape: outputShape)
    }
}
