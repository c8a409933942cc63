import EMHDF5
import EMStorage
import EMVolume
import Foundation
import TestSupport

/// A scalar with a deterministic test pattern that uses its whole range (uint64 values above
/// 2^53 included, so that a round trip through double would show).
protocol PatternScalar: VoxelScalar {
    /// The pattern value for a voxel hash.
    static func pattern(_ hash: UInt64) -> Self
}

extension UInt8: PatternScalar { static func pattern(_ hash: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: hash) } }
extension UInt16: PatternScalar { static func pattern(_ hash: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: hash) } }
extension UInt32: PatternScalar { static func pattern(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash) } }
extension UInt64: PatternScalar { static func pattern(_ hash: UInt64) -> UInt64 { hash } }
extension Float: PatternScalar { static func pattern(_ hash: UInt64) -> Float { Float(Int64(hash % 200_001) - 100_000) / 64 } }

/// A volume of `box` filled with the pattern of its global voxel coordinates (and a seed).
func patternVolume<T: PatternScalar>(_ box: Box, seed: UInt64 = 1, as type: T.Type = T.self) -> Volume<T> {
    var volume = Volume<T>(box: box)
    var i = 0
    for z in box.offset.z..<box.end.z {
        for y in box.offset.y..<box.end.y {
            for x in box.offset.x..<box.end.x {
                // SplitMix64 of the coordinates: neighbouring voxels differ in every byte.
                var h = (UInt64(z) << 42) ^ (UInt64(y) << 21) ^ UInt64(x) ^ (seed &* 0x9E37_79B9_7F4A_7C15)
                h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
                h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
                volume.storage[i] = T.pattern(h ^ (h >> 31))
                i += 1
            }
        }
    }
    return volume
}

/// The naive reference of a read: voxel by voxel from `reference` (the whole volume at the
/// origin), `fill` outside it.
func naiveRead<T: VoxelScalar>(_ reference: Volume<T>, _ box: Box, fill: T) -> Volume<T> {
    var result = Volume<T>(box: box)
    for z in 0..<box.shape.z {
        for y in 0..<box.shape.y {
            for x in 0..<box.shape.x {
                let p = box.offset + Coordinate(z, y, x)
                result[z, y, x] = reference.box.contains(p) ? reference[global: p] : fill
            }
        }
    }
    return result
}

/// Writes `volume` chunk-aligned, `blockChunks` chunks per write on each axis.
func writeInBlocks<T: VoxelScalar>(_ volume: Volume<T>, to store: HDF5Store, blockChunks: Coordinate) throws {
    let grid = try BlockGrid(region: store.metadata.bounds, blockShape: store.metadata.chunkShape * blockChunks)
    for block in grid.blocks { try store.write(volume.cropped(to: block.writeBox)) }
}

/// Raw bytes of a volume's voxels (native byte order), for comparison with numpy files.
func rawBytes<T: VoxelScalar>(_ volume: Volume<T>) -> Data {
    volume.storage.withUnsafeBytes { Data($0) }
}

/// A volume of `box` from raw native-order bytes written by numpy's `tofile`.
func volumeFromFile<T: VoxelScalar>(_ url: URL, box: Box, as type: T.Type = T.self) throws -> Volume<T> {
    let data = try Data(contentsOf: url)
    var volume = Volume<T>(box: box)
    precondition(data.count == volume.storage.count * MemoryLayout<T>.size, "\(url.path) holds \(data.count) bytes")
    volume.storage.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
    return volume
}

/// The address `file:key` of a dataset in a test directory.
func hdf5Address(_ directory: URL, _ file: String = "test.h5", _ key: String = "volumes/raw") -> StoreAddress {
    StoreAddress(format: .hdf5, path: directory.appendingPathComponent(file).path, key: key)
}
