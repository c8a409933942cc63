/// A dense block of voxels in z, y, x order (x fastest), placed at `box` in its volume.
///
/// Storage is one contiguous array, so hot loops can run over `storage` directly or through
/// `withUnsafeBufferPointer` without per-voxel indexing cost.
public struct Volume<Element: VoxelScalar>: Sendable {
    /// Where these voxels sit in the volume's voxel space.
    public var box: Box
    /// Voxels in z, y, x order; `storage.count == box.voxelCount`.
    public var storage: [Element]

    /// Creates a volume covering `box` with every voxel set to `value`.
    @inlinable
    public init(box: Box, repeating value: Element = .zero) {
        precondition(!box.isEmpty || box.shape.product == 0, "volume box \(box) has a negative extent")
        self.box = box
        self.storage = Array(repeating: value, count: max(0, box.voxelCount))
    }

    /// Creates a volume at the origin with the given shape.
    @inlinable
    public init(shape: Coordinate, repeating value: Element = .zero) {
        self.init(box: Box(shape: shape), repeating: value)
    }

    /// Wraps existing voxels; `storage.count` must equal `box.voxelCount`.
    @inlinable
    public init(box: Box, storage: [Element]) {
        precondition(storage.count == box.voxelCount, "volume storage holds \(storage.count) voxels, box \(box) needs \(box.voxelCount)")
        self.box = box
        self.storage = storage
    }

    /// Extent of the volume.
    public var shape: Coordinate { box.shape }

    /// Linear index of a voxel given in local coordinates (relative to `box.offset`).
    @inlinable
    public func index(_ z: Int, _ y: Int, _ x: Int) -> Int {
        (z * box.shape.y + y) * box.shape.x + x
    }

    /// The voxel at local coordinates (relative to `box.offset`).
    @inlinable
    public subscript(_ z: Int, _ y: Int, _ x: Int) -> Element {
        get { storage[index(z, y, x)] }
        set { storage[index(z, y, x)] = newValue }
    }

    /// The voxel at a global coordinate (in the volume's voxel space).
    public subscript(global point: Coordinate) -> Element {
        get { let p = point - box.offset; return self[p.z, p.y, p.x] }
        set { let p = point - box.offset; self[p.z, p.y, p.x] = newValue }
    }

    /// A copy of the part of this volume inside `region` (which must lie within `box`).
    @inlinable
    public func cropped(to region: Box) -> Volume {
        precondition(box.contains(region), "crop \(region) is not inside \(box)")
        var result = Volume(box: region)
        result.paste(self)
        return result
    }

    /// Copies the voxels of `other` that overlap this volume into it.
    @inlinable
    public mutating func paste(_ other: Volume) {
        guard let overlap = box.intersection(other.box) else { return }
        let (dstBox, srcBox) = (box, other.box)
        storage.withUnsafeMutableBytes { dst in
            other.storage.withUnsafeBytes { src in
                copyRegion(overlap, elementSize: MemoryLayout<Element>.stride,
                           from: src.baseAddress!, box: srcBox, to: dst.baseAddress!, box: dstBox)
            }
        }
    }

    /// Applies `transform` to every voxel, producing a volume of another element type.
    @inlinable
    public func map<T: VoxelScalar>(_ transform: (Element) throws -> T) rethrows -> Volume<T> {
        Volume<T>(box: box, storage: try storage.map(transform))
    }
}

extension Volume: Equatable where Element: Equatable {}

/// Copies the voxels of `region` from a dense buffer covering `sourceBox` into a dense buffer
/// covering `destinationBox`, row by row (`memcpy` per x-row).
///
/// `region` must lie inside both boxes. Elements are opaque bytes of `elementSize`.
public func copyRegion(_ region: Box, elementSize: Int,
                       from source: UnsafeRawPointer, box sourceBox: Box,
                       to destination: UnsafeMutableRawPointer, box destinationBox: Box) {
    precondition(sourceBox.contains(region) && destinationBox.contains(region),
                 "copy region \(region) must lie in source \(sourceBox) and destination \(destinationBox)")
    if region.isEmpty { return }
    let rowBytes = region.shape.x * elementSize
    let s = region.offset - sourceBox.offset
    let d = region.offset - destinationBox.offset
    for z in 0..<region.shape.z {
        for y in 0..<region.shape.y {
            let sIndex = ((s.z + z) * sourceBox.shape.y + (s.y + y)) * sourceBox.shape.x + s.x
            let dIndex = ((d.z + z) * destinationBox.shape.y + (d.y + y)) * destinationBox.shape.x + d.x
            (destination + dIndex * elementSize).copyMemory(from: source + sIndex * elementSize, byteCount: rowBytes)
        }
    }
}
