import EMNN
import EMVolume
import Foundation

/// Predicts blocks with a U-Net: one centre-cropped prediction per block, or a weighted blend
/// of the overlapping tiles that cover the block; optionally averaged over mirrored inputs.
final class Predictor: BlockTransform {
    private let layout: TileLayout
    private let weights: TileWeights?
    private let flips: FlipAugmentation
    private let channel: Int
    private let outputType: DataType
    private let pool: NetworkPool
    let contentHash: String?

    init(layout: TileLayout, weights: TileWeights?, flips: FlipAugmentation, channel: Int, outputType: DataType,
         pool: NetworkPool, modelHash: String) {
        self.layout = layout
        self.weights = weights
        self.flips = flips
        self.channel = channel
        self.outputType = outputType
        self.pool = pool
        self.contentHash = modelHash
    }

    func inputBox(for box: Box, input: String) -> Box {
        // The layout was checked against the block shape when the stage was built.
        (try? layout.readBox(for: box)) ?? box.grown(by: layout.halo)
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        let image = try inputs["input"]!.apply(NetworkInput())
        let probabilities: Volume<Float>
        if let weights {
            var blend = BlendAccumulator(box: box)
            for tile in layout.tiles(covering: box) {
                blend.add(try predict(image.cropped(to: layout.readBox(forOutput: tile)), over: tile), tile: tile, weights: weights)
            }
            probabilities = blend.normalized()
        } else {
            probabilities = try predict(image.cropped(to: try layout.readBox(forOutput: box)), over: box)
        }
        switch outputType {
        case .uint8: return AnyVolume(probabilities.map { UInt8(($0 * 255).rounded()) })
        default: return AnyVolume(probabilities)
        }
    }

    /// The probabilities of the selected channel over the part of `output` that the prediction of
    /// `input` covers (all of it but what lies past the volume's far faces), averaged over the
    /// flip combinations.
    private func predict(_ input: Volume<Float>, over output: Box) throws -> Volume<Float> {
        try pool.withNetwork { network in
            let combinations = flips.combinations
            var mean: Volume<Float>?
            for axes in combinations {
                let prediction = try network.predict(input.flipped(axes))[channel].flipped(axes)
                if var sum = mean {
                    sum.storage.withUnsafeMutableBufferPointer { sums in
                        prediction.storage.withUnsafeBufferPointer { values in
                            for i in 0..<sums.count { sums[i] += values[i] }
                        }
                    }
                    mean = sum
                } else {
                    mean = prediction
                }
            }
            var result = mean!
            if combinations.count > 1 {
                let scale = 1 / Float(combinations.count)
                result.storage.withUnsafeMutableBufferPointer { values in
                    for i in 0..<values.count { values[i] *= scale }
                }
            }
            guard let covered = output.intersection(result.box) else {
                throw PipelineError.execution("the prediction of \(input.box) does not cover \(output)")
            }
            return result.cropped(to: covered)
        }
    }
}

/// Voxels as the network sees them: uint8 / 255, uint16 / 65535, float32 unchanged (the
/// output of a normalize stage).
struct NetworkInput: VolumeOperation {
    func run<T: VoxelScalar>(_ volume: Volume<T>) throws -> Volume<Float> {
        if let floats = volume as? Volume<Float> { return floats }
        let scale: Double
        switch T.dataType {
        case .uint8: scale = 1 / 255
        case .uint16: scale = 1 / 65535
        default: throw PipelineError.execution("the network input must be uint8, uint16 or float32, not \(T.dataType)")
        }
        var result = Volume<Float>(box: volume.box)
        volume.storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count { target[i] = Float(source[i].doubleValue * scale) }
            }
        }
        return result
    }
}
