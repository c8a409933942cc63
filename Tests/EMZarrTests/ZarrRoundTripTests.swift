import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// Writes and reads back every data type x codec x format version x separator (and sharded
/// v3) against a reference volume, on a shape that leaves edge chunks on every axis.
@Suite("Zarr round trips")
struct ZarrRoundTripTests {
    static let shape = Coordinate(13, 21, 18)
    static let chunks = Coordinate(5, 8, 7)

    /// Boxes crossing chunk borders, single voxels, the whole volume, and boxes past the edges.
    static let readBoxes: [Box] = [
        Box(shape: shape),
        Box(offset: Coordinate(2, 3, 4), shape: Coordinate(9, 10, 11)),
        Box(offset: Coordinate(12, 20, 17), shape: Coordinate(1, 1, 1)),
        Box(offset: Coordinate(5, 8, 7), shape: Coordinate(5, 8, 7)),
        Box(offset: Coordinate(9, 14, 13), shape: Coordinate(4, 7, 5)),
        Box(offset: Coordinate(-2, 15, -3), shape: Coordinate(6, 10, 25)),
        Box(offset: Coordinate(11, -4, 16), shape: Coordinate(5, 30, 4)),
    ]

    @Test(arguments: DataType.allCases, codecNames)
    func roundTrip(dataType: DataType, codecName: String) throws {
        for version in [2, 3] {
            for separator in ["/", "."] {
                try withScalarType(dataType) { type in
                    try check(type, codec: Codec.parse(codecName), options: ZarrOptions(version: version, dimensionSeparator: separator))
                }
            }
        }
    }

    @Test(arguments: DataType.allCases, codecNames)
    func shardedRoundTrip(dataType: DataType, codecName: String) throws {
        let options = ZarrOptions(version: 3, dimensionSeparator: "/", shardShape: Self.chunks * Coordinate(2, 2, 2))
        try withScalarType(dataType) { type in try check(type, codec: Codec.parse(codecName), options: options) }
    }

    private func check<T: VoxelScalar>(_ type: T.Type, codec: Codec, options: ZarrOptions) throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-roundtrip")
        defer { try? FileManager.default.removeItem(at: root) }
        let label = "\(T.dataType) \(codec) v\(options.version) '\(options.dimensionSeparator)' shards \(options.shardShape.map { "\($0)" } ?? "none")"
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("out.zarr").path, key: "volumes/raw")
        let spec = VolumeSpec(shape: Self.shape, dataType: T.dataType, chunkShape: Self.chunks, voxelSize: VoxelSize(40, 4, 4),
                              origin: WorldPoint(80, 8, 12), codec: codec)
        let written = try ZarrStore.create(address, spec: spec, options: options)
        let reference = referenceVolume(Self.shape, as: T.self)
        try writeInBlocks(reference, to: written, blockChunks: options.shardShape == nil ? Coordinate(2, 1, 2) : Coordinate(1, 1, 1))

        let store = try ZarrStore.open(address)
        #expect(store.metadata.shape == Self.shape && store.metadata.dataType == T.dataType, "\(label)")
        #expect(store.metadata.chunkShape == (options.shardShape ?? Self.chunks), "\(label)")
        #expect(store.decodeChunkShape == Self.chunks, "\(label)")
        #expect(store.metadata.codec.hasPrefix(codec.description), "\(label): \(store.metadata.codec)")
        #expect(store.formatVersion == options.version)
        for box in Self.readBoxes {
            let fill = T(clampingDouble: 42)
            let read = try store.read(box, as: T.self, fill: fill)
            let expected = expectedRead(reference, box, fill: fill)
            let mismatches = zip(read.storage, expected.storage).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(label): box \(box) has \(mismatches) wrong voxels")
        }

        // The all-fill first layer of chunks is not stored; the next layer is. In a shard, the
        // index marks the inner chunk absent (offset and size 2^64-1, Zarr sharding spec).
        let directory = address.path + "/" + address.key + "/"
        let separator = options.dimensionSeparator
        func chunkFile(_ z: Int) -> String {
            directory + (options.version == 3 ? "c" + separator : "") + ["\(z)", "0", "0"].joined(separator: separator)
        }
        if options.shardShape == nil {
            #expect(!FileManager.default.fileExists(atPath: chunkFile(0)), "\(label)")
            #expect(FileManager.default.fileExists(atPath: chunkFile(1)), "\(label)")
        } else {
            let shard = try Data(contentsOf: URL(fileURLWithPath: chunkFile(0)))
            let entries = shard.suffix(8 * 16 + 4).prefix(8 * 16)
            func entry(_ i: Int) -> UInt64 { entries.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self) } }
            #expect(entry(0) == UInt64.max && entry(4) != UInt64.max && Int(entry(4)) < shard.count, "\(label)")
        }
        #expect(temporaryLeftovers(root).isEmpty, "\(label)")
    }

    @Test func fillChunksRemoveExistingFiles() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-fill")
        defer { try? FileManager.default.removeItem(at: root) }
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("a.zarr").path, key: "x")
        let store = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(4, 4, 4), dataType: .uint16,
                                                                   chunkShape: Coordinate(2, 4, 4), fillValue: 7))
        try store.write(Volume<UInt16>(shape: Coordinate(4, 4, 4), repeating: 3))
        let chunk = address.path + "/x/0/0/0"
        #expect(FileManager.default.fileExists(atPath: chunk))
        try store.write(Volume<UInt16>(box: Box(shape: Coordinate(2, 4, 4)), repeating: 7))
        #expect(!FileManager.default.fileExists(atPath: chunk))
        let read = try store.readAll(as: UInt16.self)
        #expect(read.storage == Array(repeating: 7, count: 32) + Array(repeating: 3, count: 32))
    }

    @Test func unwrittenArrayReadsAsFillValue() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-empty")
        defer { try? FileManager.default.removeItem(at: root) }
        for (version, shards) in [(2, nil), (3, nil), (3, Optional(Coordinate(4, 4, 4)))] {
            let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("e\(version)\(shards == nil).zarr").path, key: "")
            let store = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(5, 3, 6), dataType: .float32, chunkShape: Coordinate(2, 2, 2),
                                                                       fillValue: .nan), options: ZarrOptions(version: version, shardShape: shards))
            let read = try store.read(Box(offset: Coordinate(-1, 0, 0), shape: Coordinate(6, 3, 6)), as: Float.self, fill: 1.5)
            #expect(read.storage.prefix(18).allSatisfy { $0 == 1.5 })
            #expect(read.storage.dropFirst(18).allSatisfy { $0.isNaN })
        }
    }

    @Test func readsTouchingHundredsOfShards() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-many")
        defer { try? FileManager.default.removeItem(at: root) }
        let shape = Coordinate(10, 40, 42)
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("m.zarr").path, key: "raw")
        let store = try ZarrStore.create(address, spec: VolumeSpec(shape: shape, dataType: .uint16, chunkShape: Coordinate(1, 2, 2), codec: .zstd(level: 1)),
                                         options: ZarrOptions(version: 3, shardShape: Coordinate(1, 4, 4)))
        let reference = referenceVolume(shape, as: UInt16.self)
        try store.write(reference)
        #expect(store.chunkGrid.gridShape.product == 1100)
        #expect(try ZarrStore.open(address).readAll(as: UInt16.self) == reference)
    }
}
