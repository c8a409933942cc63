import Foundation
import EMVolume

/// How overlapping tiles are weighted when they are blended: separable per-axis profiles,
/// positive everywhere so every covered voxel gets a defined value.
enum BlendProfile: String, CaseIterable, Sendable {
    /// exp(-d^2 / (2 sigma^2)), d the distance from the tile centre, sigma = size / 8.
    case gaussian
    /// A ramp rising over the overlap from each tile edge, flat in the middle.
    case linear

    /// The weight of each of `size` positions along one axis of a tile overlapping its
    /// neighbours by `overlap` voxels.
    func weights(size: Int, overlap: Int) -> [Float] {
        (0..<size).map { i in
            let position = Double(i) + 0.5
            switch self {
            case .gaussian:
                let sigma = Double(size) / 8
                let d = position - Double(size) / 2
                return Float(exp(-d * d / (2 * sigma * sigma)))
            case .linear:
                let ramp = Double(overlap + 1)
                return Float(Swift.min(1, position / ramp, (Double(size) - position) / ramp))
            }
        }
    }
}

/// The separable weights of one tile shape: `weight(z, y, x) = z[z] * y[y] * x[x]`.
struct TileWeights: Sendable {
    let z: [Float]
    let y: [Float]
    let x: [Float]

    init(profile: BlendProfile, tile: Coordinate, overlap: Coordinate) {
        z = profile.weights(size: tile.z, overlap: overlap.z)
        y = profile.weights(size: tile.y, overlap: overlap.y)
        x = profile.weights(size: tile.x, overlap: overlap.x)
    }
}

/// Weighted sums of tile predictions over one block, normalised at the end.
struct BlendAccumulator {
    private(set) var sum: Volume<Float>
    private var weight: Volume<Float>

    /// An empty accumulator over `box`.
    init(box: Box) {
        sum = Volume(box: box)
        weight = Volume(box: box)
    }

    /// Adds `prediction` (a tile's output over `tile`, or over the part of it inside the volume)
    /// weighted by `weights`.
    mutating func add(_ prediction: Volume<Float>, tile: Box, weights: TileWeights) {
        guard let overlap = prediction.box.intersection(sum.box) else { return }
        let source = prediction.box, target = sum.box
        prediction.storage.withUnsafeBufferPointer { values in
            sum.storage.withUnsafeMutableBufferPointer { sums in
                weight.storage.withUnsafeMutableBufferPointer { weightSums in
                    for z in overlap.offset.z..<overlap.end.z {
                        let wz = weights.z[z - tile.offset.z]
                        for y in overlap.offset.y..<overlap.end.y {
                            let wzy = wz * weights.y[y - tile.offset.y]
                            let s = ((z - source.offset.z) * source.shape.y + (y - source.offset.y)) * source.shape.x - source.offset.x
                            let t = ((z - target.offset.z) * target.shape.y + (y - target.offset.y)) * target.shape.x - target.offset.x
                            for x in overlap.offset.x..<overlap.end.x {
                                let w = wzy * weights.x[x - tile.offset.x]
                                sums[t + x] += w * values[s + x]
                                weightSums[t + x] += w
                            }
                        }
                    }
                }
            }
        }
    }

    /// The weighted mean at every voxel.
    func normalized() -> Volume<Float> {
        var result = sum
        weight.storage.withUnsafeBufferPointer { weights in
            result.storage.withUnsafeMutableBufferPointer { values in
                for i in 0..<values.count { values[i] = weights[i] > 0 ? values[i] / weights[i] : 0 }
            }
        }
        return result
    }
}
