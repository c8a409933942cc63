import EMStorage
import EMStores
import EMVolume

/// An image and its foreground mask held in memory for training or validation, with the
/// foreground voxels indexed once so patches can be centred on them.
public struct TrainingVolume: Sendable {
    /// The image (uint8 intensities, normalised to [0, 1] when patches are cut).
    public let raw: Volume<UInt8>
    /// The mask: nonzero is foreground.
    public let label: Volume<UInt8>
    /// Linear indexes (into `raw.storage`) of every foreground voxel.
    public let foreground: [Int]

    /// Pairs an image with its mask; both must cover the same box.
    public init(raw: Volume<UInt8>, label: Volume<UInt8>) throws {
        guard raw.box == label.box else {
            throw NNError.shapeMismatch("image box \(raw.box) and label box \(label.box) differ; training needs both over the same region")
        }
        self.raw = raw
        self.label = label
        foreground = label.storage.withUnsafeBufferPointer { labels in
            var indexes: [Int] = []
            for i in 0..<labels.count where labels[i] != 0 { indexes.append(i) }
            return indexes
        }
    }

    /// Reads `region` (the whole volume when `nil`) of an image and a mask from store addresses
    /// such as `train.h5:volumes/raw` and `train.h5:volumes/labels/synapse`.
    ///
    /// The image must be uint8; the mask may be any unsigned integer type (nonzero = foreground).
    public static func load(raw rawAddress: String, label labelAddress: String, region: Box? = nil) throws -> TrainingVolume {
        let rawStore = try Stores.openComplete(rawAddress)
        let labelStore = try Stores.openComplete(labelAddress)
        guard rawStore.metadata.shape == labelStore.metadata.shape else {
            throw NNError.shapeMismatch("image \(rawAddress) has shape \(rawStore.metadata.shape) but label \(labelAddress) has \(labelStore.metadata.shape)")
        }
        let bounds = rawStore.metadata.bounds
        let box = region ?? bounds
        guard bounds.contains(box), !box.isEmpty else {
            throw NNError.invalidConfiguration("region \(box) is not inside \(rawAddress), whose bounds are \(bounds)")
        }
        guard rawStore.metadata.dataType == .uint8 else {
            throw NNError.invalidConfiguration("image \(rawAddress) is \(rawStore.metadata.dataType.rawValue); training reads uint8 images (convert it first)")
        }
        let raw = try rawStore.read(box, as: UInt8.self)
        let label: Volume<UInt8>
        switch labelStore.metadata.dataType {
        case .uint8: label = try labelStore.read(box, as: UInt8.self)
        case .uint16: label = try labelStore.read(box, as: UInt16.self).map { $0 != 0 ? 1 : 0 }
        case .uint32: label = try labelStore.read(box, as: UInt32.self).map { $0 != 0 ? 1 : 0 }
        case .uint64: label = try labelStore.read(box, as: UInt64.self).map { $0 != 0 ? 1 : 0 }
        case .float32: label = try labelStore.read(box, as: Float.self).map { $0 > 0.5 ? 1 : 0 }
        }
        return try TrainingVolume(raw: raw, label: label)
    }

    /// The image of `box` (global coordinates) as floats in [0, 1] and the mask as 0/1 floats;
    /// voxels outside the held region are 0 in both.
    public func patch(_ box: Box) -> (raw: Volume<Float>, label: Volume<Float>) {
        var image = Volume<Float>(box: box), mask = Volume<Float>(box: box)
        guard let inside = box.intersection(raw.box) else { return (image, mask) }
        let source = raw.shape, target = box.shape
        raw.storage.withUnsafeBufferPointer { r in
            label.storage.withUnsafeBufferPointer { l in
                image.storage.withUnsafeMutableBufferPointer { i in
                    mask.storage.withUnsafeMutableBufferPointer { m in
                        for z in inside.offset.z..<inside.end.z {
                            for y in inside.offset.y..<inside.end.y {
                                let s = ((z - raw.box.offset.z) * source.y + (y - raw.box.offset.y)) * source.x - raw.box.offset.x
                                let t = ((z - box.offset.z) * target.y + (y - box.offset.y)) * target.x - box.offset.x
                                for x in inside.offset.x..<inside.end.x {
                                    i[t + x] = Float(r[s + x]) * (1 / 255)
                                    m[t + x] = l[s + x] != 0 ? 1 : 0
                                }
                            }
                        }
                    }
                }
            }
        }
        return (image, mask)
    }

    /// The global coordinate of the voxel at linear index `index` of `raw.storage`.
    func coordinate(ofIndex index: Int) -> Coordinate {
        let shape = raw.shape
        return raw.box.offset + Coordinate(index / (shape.y * shape.x), (index / shape.x) % shape.y, index % shape.x)
    }
}
