import EMStorage
import EMStores
import EMVolume
import Foundation
import TestSupport

/// A smooth random field in [0, 1]: noise blurred by a few box filters, so that thresholds
/// cut it into blobs that span several blocks.
func smoothField(_ shape: Coordinate, seed: UInt64) -> Volume<Float> {
    var generator = SeededGenerator(seed: seed)
    var field = Volume<Float>(shape: shape)
    for i in 0..<field.storage.count { field.storage[i] = Float.random(in: 0...1, using: &generator) }
    for axis in 0..<3 {
        for _ in 0..<2 {
            let copy = field
            for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x {
                var sum: Float = 0, count: Float = 0
                for d in -1...1 {
                    var p = Coordinate(z, y, x)
                    p[axis] += d
                    guard p[axis] >= 0 && p[axis] < shape[axis] else { continue }
                    sum += copy[p.z, p.y, p.x]
                    count += 1
                }
                field[z, y, x] = sum / count
            } } }
        }
    }
    let low = field.storage.min()!, high = field.storage.max()!
    for i in 0..<field.storage.count { field.storage[i] = (field.storage[i] - low) / (high - low) }
    return field
}

/// Writes `volume` into a new store at `address` (a real Zarr, HDF5 or TIFF volume).
func writeVolume<T: VoxelScalar>(_ volume: Volume<T>, to address: String, chunks: Coordinate) throws {
    let parsed = try StoreAddress.parse(address)
    let store = try Stores.create(parsed, spec: VolumeSpec(shape: volume.shape, dataType: T.dataType, chunkShape: chunks,
                                                           codec: parsed.format == .zarr ? .zstd(level: 1) : .gzip(level: 1)))
    try store.write(volume)
    try store.flush()
}

/// Reads the whole volume at `address`.
func readVolume<T: VoxelScalar>(_ address: String, as type: T.Type) throws -> Volume<T> {
    try Stores.open(try StoreAddress.parse(address)).readAll(as: type)
}

/// Writes a pipeline file into `directory` and returns its path.
func writePipeline(_ yaml: String, in directory: URL, name: String = "pipeline.yaml") throws -> String {
    let path = directory.appendingPathComponent(name).path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The voxels of `field` above `threshold` as a 0/1 mask.
func thresholded(_ field: Volume<Float>, above threshold: Float) -> Volume<UInt8> {
    field.map { $0 > threshold ? UInt8(1) : 0 }
}
