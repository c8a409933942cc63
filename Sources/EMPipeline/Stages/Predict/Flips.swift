import EMVolume

/// Test-time augmentation by mirroring: which axes each extra prediction flips.
public enum FlipAugmentation: String, ParameterChoice, Sendable {
    /// One prediction, no flips.
    case none
    /// The four combinations of flips along y and x.
    case xy
    /// The eight combinations of flips along z, y and x.
    case xyz

    /// Every combination, as (flip z, flip y, flip x); the first is the identity.
    var combinations: [[Bool]] {
        switch self {
        case .none: return [[false, false, false]]
        case .xy: return [false, true].flatMap { y in [false, true].map { x in [false, y, x] } }
        case .xyz: return [false, true].flatMap { z in [false, true].flatMap { y in [false, true].map { x in [z, y, x] } } }
        }
    }
}

extension Volume {
    /// The voxels mirrored along the axes marked in `axes` (z, y, x), within the same box.
    func flipped(_ axes: [Bool]) -> Volume {
        guard axes.contains(true) else { return self }
        let shape = box.shape
        var result = Volume(box: box)
        storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for z in 0..<shape.z {
                    let sz = axes[0] ? shape.z - 1 - z : z
                    for y in 0..<shape.y {
                        let sy = axes[1] ? shape.y - 1 - y : y
                        let s = (sz * shape.y + sy) * shape.x
                        let t = (z * shape.y + y) * shape.x
                        if axes[2] {
                            for x in 0..<shape.x { target[t + x] = source[s + shape.x - 1 - x] }
                        } else {
                            for x in 0..<shape.x { target[t + x] = source[s + x] }
                        }
                    }
                }
            }
        }
        return result
    }
}
