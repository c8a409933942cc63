import EMVolume

extension UNet {
    /// Logits for every voxel of `region` of `data`, predicted block by block in the crop mode
    /// of `TileLayout` over the data's box (as the predict stage does): each block produces
    /// `blockOutput` voxels (fewer where the region is smaller), with same padding the network
    /// pads at the data's faces itself, as on training patches.
    ///
    /// - Returns: the logits over `region` (first output channel).
    public func predictLogits(_ data: TrainingVolume, region: Box, blockOutput: Coordinate) throws -> Volume<Float> {
        // A block output the network accepts: its input size minus the context on both sides.
        let step = try configuration.inputSize(forOutput: Coordinate.minimum(blockOutput, region.shape)) - halo * 2
        let layout = TileLayout(configuration: configuration, bounds: data.raw.box)
        var logits = Volume<Float>(box: region)
        for core in layout.blocks(covering: region, blockOutput: step) {
            let input = data.patch(try layout.readBox(forOutput: core)).raw
            let output = try forward(Tensor(volume: input), training: false)
            var block = output.volume(batch: 0, channel: 0)
            block.box = outputBox(forInput: input.box, outputShape: block.shape)
            logits.paste(block.cropped(to: core))
        }
        return logits
    }

    /// Loss and voxel metrics of the network's prediction over `region` of `data`.
    public func validate(on data: TrainingVolume, region: Box, blockOutput: Coordinate, loss: LossConfiguration) throws -> ValidationMetrics {
        let logits = try predictLogits(data, region: region, blockOutput: blockOutput)
        let labels = data.patch(region).label
        let value = try SegmentationLoss.evaluate(logits: Tensor(volume: logits), target: Tensor(volume: labels), configuration: loss).value
        let probabilities = logits.storage.map(logistic)
        return probabilities.withUnsafeBufferPointer { p in
            labels.storage.withUnsafeBufferPointer { l in ValidationMetrics(probabilities: p, labels: l, loss: Double(value.total)) }
        }
    }
}
