import EMVolume

/// Sizes through a U-Net: output size, receptive field, halo and block alignment.
extension UNetConfiguration {
    /// The output size along `axis` for an input of `size`, or why that size does not work.
    private func outputSize(_ size: Int, axis: Int) -> Result<Int, NNError> {
        let shrink = padding == .valid
        var n = size
        var skips: [Int] = []
        func fail(_ message: String) -> Result<Int, NNError> {
            .failure(.shapeMismatch("input size \(size) on axis \(["z", "y", "x"][axis]): \(message)"))
        }
        for level in 0..<depth {
            for _ in 0..<convolutionsPerLevel {
                if shrink { n -= kernelSizes[level][axis] - 1 }
                if n < 1 { return fail("nothing is left after the level-\(level) encoder convolutions") }
            }
            guard level < depth - 1 else { break }
            skips.append(n)
            let f = poolingFactors[level][axis]
            if n % f != 0 { return fail("the level-\(level) features (\(n) voxels) are not divisible by the pooling factor \(f)") }
            n /= f
        }
        for level in (0..<(depth - 1)).reversed() {
            n *= poolingFactors[level][axis]
            let difference = skips[level] - n
            if difference < 0 || difference % 2 != 0 {
                return fail("the level-\(level) skip (\(skips[level])) cannot be centre-cropped to the upsampled size \(n)")
            }
            for _ in 0..<convolutionsPerLevel {
                if shrink { n -= kernelSizes[level][axis] - 1 }
                if n < 1 { return fail("nothing is left after the level-\(level) decoder convolutions") }
            }
        }
        return .success(n)
    }

    /// The nearest input sizes along `axis` that work: the largest below and the smallest above `size`.
    func validSizes(near size: Int, axis: Int) -> (below: Int?, above: Int?) {
        let limit = 4 * (receptiveField[axis] + blockAlignment[axis]) + size
        let below = stride(from: size, through: 1, by: -1).first { (try? outputSize($0, axis: axis).get()) != nil }
        let above = (size...max(size, limit)).first { (try? outputSize($0, axis: axis).get()) != nil }
        return (below, above)
    }

    /// The spatial output size for an input of `input`.
    ///
    /// - Throws: `NNError.shapeMismatch` naming the axis, why it fails, and the nearest sizes that work.
    public func outputSize(for input: Coordinate) throws -> Coordinate {
        try validate()
        var output = Coordinate.zero
        for axis in 0..<3 {
            switch outputSize(input[axis], axis: axis) {
            case let .success(n): output[axis] = n
            case let .failure(error):
                let (below, above) = validSizes(near: input[axis], axis: axis)
                let options = [below, above].compactMap { $0 }.map(String.init).joined(separator: " or ")
                throw NNError.shapeMismatch("\(error.description.replacingOccurrences(of: "shape mismatch: ", with: "")); "
                    + (options.isEmpty ? "no nearby size works" : "sizes that work on this axis: \(options)"))
            }
        }
        return output
    }

    /// The voxels of the input that influence one output voxel, per axis.
    public var receptiveField: Coordinate {
        var field = Coordinate(repeating: 1), jump = Coordinate(repeating: 1)
        for level in 0..<depth {
            field = field + (kernelSizes[level] - Coordinate(repeating: 1)) * jump * convolutionsPerLevel
            if level < depth - 1 {
                field = field + (poolingFactors[level] - Coordinate(repeating: 1)) * jump
                jump = jump * poolingFactors[level]
            }
        }
        for level in (0..<(depth - 1)).reversed() {
            jump = Coordinate.floorDivide(jump, poolingFactors[level])
            field = field + (kernelSizes[level] - Coordinate(repeating: 1)) * jump * convolutionsPerLevel
        }
        return field
    }

    /// Block origins must be multiples of this (the product of the pooling factors) for blocks to
    /// see the same pooling grid as a whole-volume pass.
    public var blockAlignment: Coordinate {
        poolingFactors.reduce(Coordinate(repeating: 1)) { $0 * $1 }
    }

    /// Context a block needs on each side so its central output equals a whole-volume pass.
    ///
    /// `.valid`: what the network trims from each side. `.same`: the furthest reach of any
    /// output voxel's dependencies, rounded up to the block alignment, so that every voxel of a
    /// block's prediction equals a prediction of the zero-extended whole volume. With pooling an
    /// output voxel's receptive field is not centred: depending on the voxel's position in the
    /// pooling grid it reaches further to one side, so half the receptive field can fall one
    /// voxel short; this follows the dependency interval of each grid position back through the
    /// network instead.
    public var halo: Coordinate {
        switch padding {
        case .same:
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
        case .valid:
            var trim = Coordinate.zero
            for axis in 0..<3 {
                if let n = validSizes(near: 1, axis: axis).above, case let .success(out) = outputSize(n, axis: axis) {
                    trim[axis] = (n - out) / 2
                }
            }
            return trim
        }
    }

    /// The input box that predicts `output` inside a volume covering `bounds`; its prediction
    /// (`UNet.predict(_:)`) equals, on every voxel of `output` inside `bounds`, one pass of the
    /// network over the whole volume.
    ///
    /// `.same`: `output` grown by the halo but stopped at the faces of `bounds`, where the network
    /// pads its feature maps with zeros itself, as it did on its training patches (padding the
    /// image instead would show it dark sections it never saw in training). The origin lies on
    /// the pooling grid of `bounds` and the shape is a multiple of the block alignment, so the box
    /// may reach up to alignment - 1 voxels past the far faces (read as 0).
    /// `.valid`: `output` grown by the halo, the origin aligned to the pooling grid of the volume
    /// extended by the halo, the shape the nearest size the network accepts; voxels outside
    /// `bounds` read as 0.
    public func readBox(forOutput output: Box, in bounds: Box) throws -> Box {
        let alignment = blockAlignment
        let alignedStart = bounds.offset + Coordinate.floorDivide(output.offset - bounds.offset, alignment) * alignment
        switch padding {
        case .same:
            let start = Coordinate.maximum(alignedStart - halo, bounds.offset)
            let end = Coordinate.minimum(output.end + halo, bounds.end)
            guard Coordinate.all(end, start, >) else {
                throw NNError.shapeMismatch("output box \(output) lies outside the volume \(bounds)")
            }
            return Box(offset: start, shape: Coordinate.ceilDivide(end - start, alignment) * alignment)
        case .valid:
            return Box(offset: alignedStart - halo, shape: try inputSize(forOutput: output.end - alignedStart))
        }
    }

    /// Input positions that the decoder output of `level` over [low, high] depends on.
    private func decoderDependency(level: Int, low: Int, high: Int, axis: Int) -> (Int, Int) {
        if level == depth - 1 { return encoderDependency(level: level, low: low, high: high, axis: axis) }
        let grow = convolutionReach(level: level, axis: axis)
        let (l, h) = (low - grow, high + grow)
        let skip = encoderDependency(level: level, low: l, high: h, axis: axis)
        let factor = poolingFactors[level][axis]
        let deeper = decoderDependency(level: level + 1, low: Coordinate.floorDivide(l, factor), high: Coordinate.floorDivide(h, factor), axis: axis)
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

    /// The smallest input that works and gives at least `output` voxels of prediction after the halo.
    public func inputSize(forOutput output: Coordinate) throws -> Coordinate {
        try validate()
        var result = Coordinate.zero
        for axis in 0..<3 {
            let wanted = output[axis] + 2 * halo[axis]
            guard let size = validSizes(near: wanted, axis: axis).above else {
                throw NNError.shapeMismatch("no input size near \(wanted) works on axis \(["z", "y", "x"][axis])")
            }
            result[axis] = size
        }
        return result
    }
}
