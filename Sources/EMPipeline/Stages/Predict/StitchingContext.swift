import EMNN
import EMVolume

extension UNetConfiguration {
    /// The context a block needs on each side so that every voxel of its prediction equals a
    /// prediction of the zero-extended whole volume, rounded up to the block alignment for
    /// `.same` padding (for `.valid` padding the network's own trim, `halo`).
    ///
    /// With pooling, an output voxel's receptive field is not centred: depending on the voxel's
    /// position in the pooling grid it reaches further to one side, so half the receptive field
    /// can fall one voxel short. This follows the dependency interval of each grid position
    /// back through the network and takes the largest reach on either side.
    var stitchingContext: Coordinate {
        guard padding == .same else { return halo }
        var context = Coordinate.zero
        for axis in 0..<3 {
            var reach = 0
            for phase in 0..<blockAlignment[axis] {
                let (low, high) = decoderDependency(level: 0, low: phase, high: phase, axis: axis)
                reach = Swift.max(reach, phase - low, high - phase)
            }
            context[axis] = reach
        }
        return Coordinate.ceilDivide(context, blockAlignment) * blockAlignment
    }

    /// Input positions that the decoder output of `level` over [low, high] depends on.
    private func decoderDependency(level: Int, low: Int, high: Int, axis: Int) -> (Int, Int) {
        if level == depth - 1 { return encoderDependency(level: level, low: low, high: high, axis: axis) }
        let grow = convolutionReach(level: level, axis: axis)
        let (l, h) = (low - grow, high + grow)
        let skip = encoderDependency(level: level, low: l, high: h, axis: axis)
        let factor = poolingFactors[level][axis]
        let deeper = decoderDependency(level: level + 1, low: Self.floorDivide(l, factor), high: Self.floorDivide(h, factor), axis: axis)
        return (Swift.min(skip.0, deeper.0), Swift.max(skip.1, deeper.1))
    }

    /// Input positions that the encoder output of `level` over [low, high] depends on.
    private func encoderDependency(level: Int, low: Int, high: Int, axis: Int) -> (Int, Int) {
        let grow = convolutionReach(level: level, axis: axis)
        let (l, h) = (low - grow, high + grow)
        guard level > 0 else { return (l, h) }
        let factor = poolingFactors[level - 1][axis]
        return encoderDependency(level: level - 1, low: l * factor, high: h * factor + factor - 1, axis: axis)
    }

    /// How far the convolutions of one side of `level` reach on each side.
    private func convolutionReach(level: Int, axis: Int) -> Int {
        (kernelSizes[level][axis] - 1) / 2 * convolutionsPerLevel
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
