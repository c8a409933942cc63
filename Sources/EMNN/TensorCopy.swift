import EMVolume

/// Copies `channels` channels over a spatial box of `extent` from `source` (starting at channel
/// `sourceChannel`, voxel `sourceOrigin`) into `destination` (channel `destinationChannel`, voxel
/// `destinationOrigin`), across all samples. Works between any two layouts.
///
/// Whole channel blocks are copied row by row when both layouts block channels alike; otherwise
/// each channel row is copied with the two layouts' strides.
func copyChannelRegion(from source: Tensor, channel sourceChannel: Int, origin sourceOrigin: Coordinate,
                       into destination: inout Tensor, channel destinationChannel: Int, origin destinationOrigin: Coordinate,
                       channels: Int, extent: Coordinate) {
    precondition(source.shape.batch == destination.shape.batch, "copy between batches \(source.shape) and \(destination.shape)")
    if channels == 0 || extent.product == 0 { return }
    destination.makeUnique()
    let bs = source.block, bd = destination.block
    let src = source.storage.pointer, dst = destination.storage.pointer
    let ss = source.shape.spatial, ds = destination.shape.spatial
    // Whole blocks move together when the blocking matches and the channel ranges cover whole
    // blocks (or end at both tensors' last channel, whose padded lanes are zero in both).
    let blockAligned = bs == bd && sourceChannel % bs == 0 && destinationChannel % bd == 0
        && (channels % bs == 0 || (sourceChannel + channels == source.shape.channels
                                   && destinationChannel + channels == destination.shape.channels))
    let step = blockAligned ? bs : 1
    // Rows outermost, channels inside: a blocked row is read once from memory and its lanes
    // are then picked from cache for each channel.
    for n in 0..<source.shape.batch {
        for z in 0..<extent.z {
            for y in 0..<extent.y {
                let sVoxel: Int = ((sourceOrigin.z + z) * ss.y + sourceOrigin.y + y) * ss.x + sourceOrigin.x
                let dVoxel: Int = ((destinationOrigin.z + z) * ds.y + destinationOrigin.y + y) * ds.x + destinationOrigin.x
                for c in stride(from: 0, to: channels, by: step) {
                    let sRow = source.channelOffset(n, sourceChannel + c) + sVoxel * bs
                    let dRow = destination.channelOffset(n, destinationChannel + c) + dVoxel * bd
                    if blockAligned || (bs == 1 && bd == 1) {
                        (dst + dRow).update(from: src + sRow, count: extent.x * step)
                    } else {
                        for x in 0..<extent.x { dst[dRow + x * bd] = src[sRow + x * bs] }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// The spatial box `region` (relative to this tensor's origin) of every channel.
    public func cropped(to region: Box) throws -> Tensor {
        guard Box(shape: shape.spatial).contains(region) else {
            throw NNError.shapeMismatch("crop \(region) does not lie inside a tensor of spatial shape \(shape.spatial)")
        }
        var result = Tensor(shape: TensorShape(batch: shape.batch, channels: shape.channels, spatial: region.shape), layout: layout)
        copyChannelRegion(from: self, channel: 0, origin: region.offset, into: &result, channel: 0, origin: .zero,
                          channels: shape.channels, extent: region.shape)
        return result
    }

    /// Channels `range` of this tensor, in the same layout.
    public func channels(_ range: Range<Int>) throws -> Tensor {
        guard range.lowerBound >= 0, range.upperBound <= shape.channels, !range.isEmpty else {
            throw NNError.shapeMismatch("channels \(range) of a tensor with \(shape.channels) channels")
        }
        var result = Tensor(shape: TensorShape(batch: shape.batch, channels: range.count, spatial: shape.spatial), layout: layout)
        copyChannelRegion(from: self, channel: range.lowerBound, origin: .zero, into: &result, channel: 0, origin: .zero,
                          channels: range.count, extent: shape.spatial)
        return result
    }

    /// Tensors of equal batch and spatial shape joined along channels, in `layout`.
    public static func concatenate(_ parts: [Tensor], layout: TensorLayout = .blocked(8)) throws -> Tensor {
        guard let first = parts.first else { throw NNError.shapeMismatch("concatenating no tensors") }
        for part in parts where part.shape.batch != first.shape.batch || part.shape.spatial != first.shape.spatial {
            throw NNError.shapeMismatch("concatenating \(part.shape) with \(first.shape): batch and spatial shape must agree")
        }
        let total = parts.reduce(0) { $0 + $1.shape.channels }
        var result = Tensor(shape: TensorShape(batch: first.shape.batch, channels: total, spatial: first.shape.spatial), layout: layout)
        var channel = 0
        for part in parts {
            copyChannelRegion(from: part, channel: 0, origin: .zero, into: &result, channel: channel, origin: .zero,
                              channels: part.shape.channels, extent: part.shape.spatial)
            channel += part.shape.channels
        }
        return result
    }
}
