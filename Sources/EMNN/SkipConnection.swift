import EMVolume

/// A U-Net skip: the encoder's feature map, centre-cropped to the decoder's spatial size,
/// concatenated along channels before the upsampled decoder features (`[skip, up]`).
public final class CropConcatenate {
    private var saved: (skip: TensorShape, skipLayout: TensorLayout, up: TensorShape, upLayout: TensorLayout, crop: Box)?

    /// Creates the operation.
    public init() {}

    /// The centred box of a skip of `skip` size matching `target`; differences must be even.
    public static func cropBox(skip: Coordinate, target: Coordinate) throws -> Box {
        let difference = skip - target
        guard Coordinate.all(difference, .zero, >=), Coordinate.all(difference.map { $0 % 2 }, .zero, ==) else {
            throw NNError.shapeMismatch("a skip of size \(skip) cannot be centre-cropped to \(target): "
                + "each axis must be at least as large and differ by an even number")
        }
        return Box(offset: Coordinate.floorDivide(difference, Coordinate(repeating: 2)), shape: target)
    }

    /// `[crop(skip), up]` along channels, in the upsampled tensor's layout (the blocked layout
    /// oneDNN chose for this machine), or `nCdhw8c` when that is plain.
    public func forward(skip: Tensor, up: Tensor, training: Bool) throws -> Tensor {
        guard skip.shape.batch == up.shape.batch else {
            throw NNError.shapeMismatch("skip \(skip.shape) and upsampled \(up.shape) differ in batch size")
        }
        let crop = try Self.cropBox(skip: skip.shape.spatial, target: up.shape.spatial)
        let shape = TensorShape(batch: up.shape.batch, channels: skip.shape.channels + up.shape.channels, spatial: crop.shape)
        var output = Tensor(shape: shape, layout: up.layout == .plain ? .blocked(8) : up.layout, zeroed: false)
        copyChannelRegion(from: skip, channel: 0, origin: crop.offset, into: &output, channel: 0, origin: .zero,
                          channels: skip.shape.channels, extent: crop.shape)
        copyChannelRegion(from: up, channel: 0, origin: .zero, into: &output, channel: skip.shape.channels, origin: .zero,
                          channels: up.shape.channels, extent: crop.shape)
        saved = training ? (skip.shape, skip.layout, up.shape, up.layout, crop) : nil
        return output
    }

    /// Splits the gradient: the skip's part zero-padded back to the skip's size, and the up part.
    public func backward(_ outputGradient: Tensor) throws -> (skip: Tensor, up: Tensor) {
        guard let saved else { throw NNError.shapeMismatch("crop-concatenate: backward called without a training forward pass") }
        guard outputGradient.shape.channels == saved.skip.channels + saved.up.channels,
              outputGradient.shape.spatial == saved.crop.shape, outputGradient.shape.batch == saved.up.batch else {
            throw NNError.shapeMismatch("crop-concatenate: gradient \(outputGradient.shape) does not match its output")
        }
        var skip = Tensor(shape: saved.skip, layout: saved.skipLayout)
        copyChannelRegion(from: outputGradient, channel: 0, origin: .zero, into: &skip, channel: 0, origin: saved.crop.offset,
                          channels: saved.skip.channels, extent: saved.crop.shape)
        var up = Tensor(shape: saved.up, layout: saved.upLayout)
        copyChannelRegion(from: outputGradient, channel: saved.skip.channels, origin: .zero, into: &up, channel: 0, origin: .zero,
                          channels: saved.up.channels, extent: saved.crop.shape)
        return (skip, up)
    }
}
