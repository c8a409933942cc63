import EMStorage
import EMVolume
import Foundation
import TestSupport

/// Deterministic test volumes and an independent (naive, voxel by voxel) reference for reads.
enum TIFFTestData {
    /// A volume of pseudo-random values covering the type's range (negative and fractional
    /// values for float32), from a SplitMix64 stream.
    static func random<T: VoxelScalar>(_ type: T.Type, shape: Coordinate, seed: UInt64) -> Volume<T> {
        var state = seed
        var volume = Volume<T>(shape: shape)
        for i in 0..<volume.storage.count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            switch T.dataType {
            case .uint8: volume.storage[i] = T(clampingDouble: Double(z % 256))
            case .uint16: volume.storage[i] = T(clampingDouble: Double(z % 65536))
            default: volume.storage[i] = T(clampingDouble: Double(Int(z % 200_001) - 100_000) / 8)
            }
        }
        return volume
    }

    /// `box` of `volume` (at the origin) read voxel by voxel; voxels outside read as `fill`.
    static func naiveRead<T: VoxelScalar>(_ volume: Volume<T>, _ box: Box, fill: T) -> [T] {
        var result: [T] = []
        result.reserveCapacity(box.voxelCount)
        for z in box.offset.z..<box.end.z {
            for y in box.offset.y..<box.end.y {
                for x in box.offset.x..<box.end.x {
                    let inside = z >= 0 && y >= 0 && x >= 0 && z < volume.shape.z && y < volume.shape.y && x < volume.shape.x
                    result.append(inside ? volume[z, y, x] : fill)
                }
            }
        }
        return result
    }

    /// Boxes that exercise partial strips, partial rows, several sections and single voxels.
    static func probeBoxes(_ shape: Coordinate) -> [Box] {
        [
            Box(shape: shape),
            Box(begin: Coordinate(1, 3, 2), end: Coordinate(shape.z - 1, shape.y - 4, shape.x - 5)),
            Box(begin: Coordinate(0, shape.y / 2, 0), end: Coordinate(shape.z, shape.y / 2 + 1, shape.x)),
            Box(offset: Coordinate(shape.z - 1, shape.y - 1, shape.x - 1), shape: Coordinate(1, 1, 1)),
            Box(begin: Coordinate(2, 9, 11), end: Coordinate(3, 26, 12)),
        ]
    }

    /// A uint8 volume whose section z holds the value `values[z]` everywhere.
    static func sections(_ values: [UInt8], height: Int, width: Int) -> Volume<UInt8> {
        Volume(box: Box(shape: Coordinate(values.count, height, width)),
               storage: values.flatMap { Array(repeating: $0, count: height * width) })
    }

    /// Raw little-endian bytes of a volume (what numpy's `tobytes()` gives on this machine).
    static func bytes<T: VoxelScalar>(_ volume: Volume<T>) -> Data {
        volume.storage.withUnsafeBytes { Data($0) }
    }

    /// A volume from raw native-order bytes.
    static func volume<T: VoxelScalar>(_ type: T.Type, shape: Coordinate, bytes: Data) -> Volume<T> {
        var volume = Volume<T>(shape: shape)
        volume.storage.withUnsafeMutableBytes { _ = bytes.copyBytes(to: $0) }
        return volume
    }
}

/// A temporary directory removed when the test ends.
final class Scratch {
    let url: URL

    init(_ label: String) throws { url = try TestEnvironment.temporaryDirectory(label) }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
