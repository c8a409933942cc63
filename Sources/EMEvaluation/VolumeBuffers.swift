import EMVolume
import EMStorage

// EMVolume's generic `Volume(box:repeating:)`, `map` and `VolumeStore.read` are not
// specialised across the module boundary and copy voxels one by one through value witnesses
// (about 10x slower than a memset). The streaming pass builds its buffers here instead.

extension Volume {
    /// A volume of zeros covering `box`.
    static func zeros(_ box: Box) -> Volume {
        Volume(box: box, storage: [Element](repeating: .zero, count: box.voxelCount))
    }
}

/// Reads `box` of `store` as `T` into a fresh buffer without first filling it.
///
/// - Throws: `StorageError.dataTypeMismatch` unless the store holds `T`, and read errors.
func readVolume<T: VoxelScalar>(_ store: VolumeStore, _ box: Box, as type: T.Type) throws -> Volume<T> {
    try store.checkType(T.dataType)
    let count = box.voxelCount
    let storage = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        try store.readBytes(box, into: UnsafeMutableRawBufferPointer(buffer), outside: .error)
        initialized = count
    }
    return Volume(box: box, storage: storage)
}
