import EMVolume
import Foundation

/// `kind: smooth`: a Gaussian blur (float32), separable, with its own halo; voxels beyond the
/// volume's faces are mirrored in, as scipy.ndimage.gaussian_filter's default mode does.
public struct SmoothStage: StageKind {
    static let input = Parameter<VolumeReference>.required("input", .volume, "The volume to blur: a stage name or a store address.")
    static let sigma = Parameter<Double>.required("sigma", .number(minimum: 0, maximum: 64), "Standard deviation in y and x, in voxels.")
    static let sigmaZ = Parameter<Double>.optional("sigma_z", .number(minimum: 0, maximum: 64), default: 0,
                                                   "Standard deviation in z, in voxels (0: each section on its own).")

    /// Standard deviations in voxels.
    public struct Parameters: Sendable {
        /// In y and x.
        public var sigma: Double
        /// In z.
        public var sigmaZ: Double
    }

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "smooth", summary: "Blurs a volume with a Gaussian (float32 output), e.g. to turn darkness into a synapse score.",
                    details: "The kernel reaches 4 standard deviations (rounded), so each block reads that much context; voxels "
                        + "beyond the volume's faces are mirrored in (scipy.ndimage.gaussian_filter with mode='reflect' "
                        + "gives the same values).",
                    parameters: [Self.input.schema, Self.sigma.schema, Self.sigmaZ.schema])
    }

    public func parameters(_ values: StageValues) -> Parameters {
        Parameters(sigma: values[Self.sigma], sigmaZ: values[Self.sigmaZ])
    }

    public func describe(_ parameters: Parameters, _ check: inout StageCheck) -> VolumeDescriptor? {
        if parameters.sigma == 0, parameters.sigmaZ == 0 {
            check.error("sigma and sigma_z are both 0, so there is nothing to blur: give sigma (y, x) or sigma_z a positive value",
                        parameter: Self.sigma.name)
            return nil
        }
        return check.inputs[Self.input.name]?.with(dataType: .float32)
    }

    public func makeImplementation(_ parameters: Parameters, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Smoother(blur: GaussianBlur(sigma: (z: parameters.sigmaZ, y: parameters.sigma, x: parameters.sigma),
                                    volumeShape: context.inputs[Self.input.name]!.shape))
    }
}

/// A separable Gaussian blur of blocks of a volume of `volumeShape`, mirroring at its faces.
struct GaussianBlur: VolumeOperation {
    /// Normalised weights from -radius to radius, per axis (z, y, x); one weight of 1 where sigma is 0.
    let kernels: [[Float]]
    let volumeShape: Coordinate

    init(sigma: (z: Double, y: Double, x: Double), volumeShape: Coordinate) {
        kernels = [sigma.z, sigma.y, sigma.x].map(Self.kernel(sigma:))
        self.volumeShape = volumeShape
    }

    /// The context one block needs on each side.
    var halo: Coordinate { Coordinate(kernels[0].count / 2, kernels[1].count / 2, kernels[2].count / 2) }

    /// Gaussian weights over radius round(4 sigma), summing to 1 (scipy's truncate = 4).
    static func kernel(sigma: Double) -> [Float] {
        guard sigma > 0 else { return [1] }
        let radius = Int(4 * sigma + 0.5)
        let weights = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = weights.reduce(0, +)
        return weights.map { Float($0 / total) }
    }

    /// The mirror image of `position` inside 0..<extent (half-sample symmetric, repeating).
    @inline(__always)
    static func mirrored(_ position: Int, extent: Int) -> Int {
        let period = 2 * extent
        let folded = ((position % period) + period) % period
        return folded < extent ? folded : period - 1 - folded
    }

    /// The blur over `volume`'s box shrunk by the halo; `volume` covers that box grown by the
    /// halo (voxels outside the volume are never read).
    func run<T: VoxelScalar>(_ volume: Volume<T>) throws -> Volume<Float> {
        let output = Box(offset: volume.box.offset + halo, shape: volume.box.shape - halo - halo)
        var current = volume.map { Float($0.doubleValue) }
        // One pass per axis, x first: each pass keeps the full extent of the axes still to blur.
        for axis in [2, 1, 0] where kernels[axis].count > 1 {
            current = pass(current, axis: axis, over: output)
        }
        return current
    }

    /// Blurs `source` along `axis`, producing `target` restricted to `output` along that axis.
    private func pass(_ source: Volume<Float>, axis: Int, over output: Box) -> Volume<Float> {
        var targetBox = source.box
        targetBox.offset[axis] = output.offset[axis]
        targetBox.shape[axis] = output.shape[axis]
        var target = Volume<Float>(box: targetBox)
        let kernel = kernels[axis], radius = kernel.count / 2
        let extent = volumeShape[axis], sourceStart = source.box.offset[axis]
        let (sy, sx) = (source.shape.y, source.shape.x)
        let (tz, ty, tx) = (targetBox.shape.z, targetBox.shape.y, targetBox.shape.x)
        // Local source index along the axis of each target position and tap.
        let targetStart = targetBox.offset[axis]
        var taps: [Int] = []
        taps.reserveCapacity(targetBox.shape[axis] * kernel.count)
        for t in 0..<targetBox.shape[axis] {
            for k in -radius...radius { taps.append(Self.mirrored(targetStart + t + k, extent: extent) - sourceStart) }
        }
        source.storage.withUnsafeBufferPointer { src in
            target.storage.withUnsafeMutableBufferPointer { dst in
                switch axis {
                case 2:  // along rows: one dot product per output voxel
                    for row in 0..<(tz * ty) {
                        let sBase = row * sx, tBase = row * tx
                        for t in 0..<tx {
                            var sum: Float = 0
                            for k in 0..<kernel.count { sum += kernel[k] * src[sBase + taps[t * kernel.count + k]] }
                            dst[tBase + t] = sum
                        }
                    }
                case 1:  // across rows: whole rows scaled and added
                    for z in 0..<tz {
                        for t in 0..<ty {
                            let tBase = (z * ty + t) * tx
                            for k in 0..<kernel.count {
                                let w = kernel[k], sBase = (z * sy + taps[t * kernel.count + k]) * sx
                                for x in 0..<tx { dst[tBase + x] += w * src[sBase + x] }
                            }
                        }
                    }
                default:  // across sections: whole sections scaled and added
                    let plane = ty * tx
                    for t in 0..<tz {
                        for k in 0..<kernel.count {
                            let w = kernel[k], sBase = taps[t * kernel.count + k] * sy * sx
                            for i in 0..<plane { dst[t * plane + i] += w * src[sBase + i] }
                        }
                    }
                }
            }
        }
        return target
    }
}

final class Smoother: BlockTransform {
    private let blur: GaussianBlur

    init(blur: GaussianBlur) {
        self.blur = blur
    }

    func inputBox(for box: Box, input: String) -> Box {
        box.grown(by: blur.halo)
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        AnyVolume(try inputs["input"]!.apply(blur))
    }
}
