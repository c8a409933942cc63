import EMVolume

extension UNet {
    /// Logits for every voxel of `region` of `data`, predicted block by block, each block
    /// producing `blockOutput` voxels or fewer at the end and read with
    /// `UNetConfiguration.readBox(forOutput:in:)` in the data's box: with same padding the
    /// network pads at the data's faces itself, as on training patches.
    ///
    /// - Returns: the logits over `region` (first output channel).
    public func predictLogits(_ data: TrainingVolume, region: Box, blockOutput: Coordinate) throws -> Volume<Float> {
        let inputShape = try configuration.inputSize(forOutput: Coordinate.minimum(blockOutput, region.shape))
        let step = inputShape - halo * 2
        var logits = Volume<Float>(box: region)
        var origins: [[Int]] = [[], [], []]
        for axis in 0..<3 {
            var start = region.offset[axis]
            while true {
                origins[axis].append(min(start, max(region.end[axis] - step[axis], region.offset[axis])))
                start += step[axis]
                if start >= region.end[axis] { break }
            }
        }
        for z in origins[0] {
            for y in origins[1] {
                for x in origins[2] {
                    let core = Box(offset: Coordinate(z, y, x), shape: step)
                    let input = data.patch(try configuration.readBox(forOutput: core, in: data.raw.box)).raw
                    let output = try forward(Tensor(volume: input), training: false)
                    var block = output.volume(batch: 0, channel: 0)
                    block.box = outputBox(forInput: input.box, outputShape: block.shape)
                    logits.paste(block.cropped(to: core))
                }
            }
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
