import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// The codecs the tests cover, by command-line name.
let codecNames = Codec.commandLineNames

/// A deterministic voxel value: a hash of the position, zero (the fill value) for z < 5 so
/// that the first layer of 5-deep chunks is all fill.
func sampleValue<T: VoxelScalar>(_ z: Int, _ y: Int, _ x: Int, as type: T.Type = T.self) -> T {
    if z < 5 { return .zero }
    let h = ((z &* 73_856_093) ^ (y &* 19_349_663) ^ (x &* 83_492_791)) & 0x7FFF_FFFF
    switch T.dataType {
    case .uint8: return T(clampingDouble: Double(h & 0xFF))
    case .uint16: return T(clampingDouble: Double(h & 0xFFFF))
    case .uint32: return T(clampingDouble: Double(h) * 2 + 1)
    case .uint64: return T(clampingDouble: Double(h) * 1_000_003)
    case .float32: return T(clampingDouble: Double(h % 100_000) / 8 - 5000)
    }
}

/// A reference volume filled with `sampleValue`.
func referenceVolume<T: VoxelScalar>(_ shape: Coordinate, as type: T.Type = T.self) -> Volume<T> {
    var volume = Volume<T>(shape: shape)
    for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x { volume[z, y, x] = sampleValue(z, y, x) } } }
    return volume
}

/// What reading `box` must give: the reference inside the volume, `fill` outside (naive loop).
func expectedRead<T: VoxelScalar>(_ reference: Volume<T>, _ box: Box, fill: T) -> Volume<T> {
    var result = Volume<T>(box: box)
    for z in 0..<box.shape.z { for y in 0..<box.shape.y { for x in 0..<box.shape.x {
        let p = box.offset + Coordinate(z, y, x)
        result[z, y, x] = reference.box.contains(p) ? reference[global: p] : fill
    } } }
    return result
}

/// Writes a volume into a store in chunk-aligned blocks of `blockChunks` chunks.
func writeInBlocks<T: VoxelScalar>(_ volume: Volume<T>, to store: ZarrStore, blockChunks: Coordinate = Coordinate(2, 1, 2)) throws {
    let grid = try BlockGrid(region: store.metadata.bounds, blockShape: store.metadata.chunkShape * blockChunks)
    for block in grid.blocks { try store.write(volume.cropped(to: block.writeBox)) }
}

/// Calls `body` with the Swift type of a data type.
func withScalarType<R>(_ dataType: DataType, _ body: (any VoxelScalar.Type) throws -> R) rethrows -> R {
    switch dataType {
    case .uint8: return try body(UInt8.self)
    case .uint16: return try body(UInt16.self)
    case .uint32: return try body(UInt32.self)
    case .uint64: return try body(UInt64.self)
    case .float32: return try body(Float.self)
    }
}

/// Files below `directory` whose names start with the atomic-write temporary prefix.
func temporaryLeftovers(_ directory: URL) -> [String] {
    let names = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
    return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(AtomicFile.temporaryPrefix) }
}

/// The error `body` throws, as a `StorageError` (recording an issue otherwise).
func storageError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> StorageError? {
    do {
        try body()
        Issue.record("expected a StorageError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        return error
    } catch {
        Issue.record("expected a StorageError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
