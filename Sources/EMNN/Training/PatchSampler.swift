import EMVolume

/// Random training patches of one shape from a `TrainingVolume`, a fraction of them centred on
/// foreground voxels (rare structures such as synapses), the rest placed uniformly.
///
/// Deterministic: the same generator state gives the same patch.
public struct PatchSampler: Sendable {
    /// Where patches come from.
    public let data: TrainingVolume
    /// The spatial shape of every patch.
    public let shape: Coordinate
    /// The probability that a patch is centred on a foreground voxel (when there is any).
    public let foregroundFraction: Double

    /// Creates a sampler; the patch must fit inside the data.
    public init(data: TrainingVolume, shape: Coordinate, foregroundFraction: Double) throws {
        guard Coordinate.all(shape, data.raw.shape, <=), Coordinate.all(shape, .zero, >) else {
            throw NNError.invalidConfiguration("patch shape \(shape) does not fit the training region \(data.raw.box); "
                + "use a patch of at most \(data.raw.shape) or a larger region")
        }
        guard (0...1).contains(foregroundFraction) else {
            throw NNError.invalidConfiguration("foreground fraction \(foregroundFraction) must lie in [0, 1] (e.g. 0.5)")
        }
        self.data = data
        self.shape = shape
        self.foregroundFraction = foregroundFraction
    }

    /// The patch box centred on `centre` (global), moved the least needed to stay inside the data.
    public func box(centredOn centre: Coordinate) -> Box {
        let region = data.raw.box
        let wanted = centre - Coordinate.floorDivide(shape, Coordinate(repeating: 2))
        let offset = Coordinate.minimum(Coordinate.maximum(wanted, region.offset), region.end - shape)
        return Box(offset: offset, shape: shape)
    }

    /// The box of the next patch drawn from `generator`.
    public func nextBox(using generator: inout SeededGenerator) -> Box {
        let onForeground = Double.random(in: 0..<1, using: &generator) < foregroundFraction
        if onForeground, !data.foreground.isEmpty {
            let index = data.foreground[Int.random(in: 0..<data.foreground.count, using: &generator)]
            return box(centredOn: data.coordinate(ofIndex: index))
        }
        let region = data.raw.box, room = region.shape - shape
        let offset = Coordinate(Int.random(in: 0...room.z, using: &generator), Int.random(in: 0...room.y, using: &generator),
                                Int.random(in: 0...room.x, using: &generator))
        return Box(offset: region.offset + offset, shape: shape)
    }

    /// The next patch: image in [0, 1] and mask as 0/1, both of `shape`.
    public func next(using generator: inout SeededGenerator) -> (raw: Volume<Float>, label: Volume<Float>) {
        data.patch(nextBox(using: &generator))
    }
}
