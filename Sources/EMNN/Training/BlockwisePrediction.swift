import EMVolume

extension UNet {
    /// Logits for every voxel of `region` of `data`, predicted block by block with the network's
    /// halo (voxels outside the data read as 0), each block producing `blockOutput` voxels or
    /// fewer at the end.
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
                    let input = data.patch(core.grown(by: halo)).raw
                    var output = try forward(Tensor(volume: input), training: false)
                    let out = output.shape.spatial
                    if out != step {
                        output = try output.cropped(to: Box(offset: Coordinate.floorDivide(out - step, Coordinate(repeating: 2)), shape: step))
                    }
                    var block = output.volume(batch: 0, channel: 0)
                    block.box = core
                    logits.paste(block)
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
