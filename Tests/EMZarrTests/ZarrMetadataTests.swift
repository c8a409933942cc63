import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// Voxel size and origin (OME-Zarr and funlib attributes), groups, codec descriptions,
/// fill values and sizes on disk.
@Suite("Zarr metadata")
struct ZarrMetadataTests {
    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func writeJSON(_ object: [String: Any], to path: String) throws {
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: [2, 3])
    func placementAndGroupsRoundTrip(version: Int) throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-meta")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("m.zarr").path
        let address = StoreAddress(format: .zarr, path: path, key: "a/b/raw")
        let spec = VolumeSpec(shape: Coordinate(6, 7, 8), dataType: .uint16, chunkShape: Coordinate(3, 4, 5), voxelSize: VoxelSize(40, 4.5, 4),
                              origin: WorldPoint(-80, 9, 1e6), codec: .blosc(compressor: .lz4, level: 5, shuffle: .byte), fillValue: 9)
        _ = try ZarrStore.create(address, spec: spec, options: ZarrOptions(version: version))
        let metadata = try ZarrStore.open(address).metadata
        #expect(metadata == VolumeMetadata(shape: spec.shape, dataType: .uint16, chunkShape: spec.chunkShape, voxelSize: spec.voxelSize,
                                           origin: spec.origin, codec: "blosc-lz4 (level 5, byte shuffle)", fillValue: 9))
        for group in [path, path + "/a", path + "/a/b"] {
            if version == 2 {
                #expect(try json(group + "/.zgroup")["zarr_format"] as? Int == 2)
            } else {
                let document = try json(group + "/zarr.json")
                #expect(document["zarr_format"] as? Int == 3 && document["node_type"] as? String == "group")
            }
        }
        // The funlib attributes alone give the same placement.
        let attributesFile = path + "/a/b/raw/" + (version == 2 ? ".zattrs" : "zarr.json")
        let attributes = version == 2 ? try json(attributesFile) : try json(attributesFile)["attributes"] as! [String: Any]
        #expect(attributes["resolution"] as? [Double] == [40, 4.5, 4] && attributes["offset"] as? [Double] == [-80, 9, 1e6])
    }

    @Test func funlibAttributesWithoutOME() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-funlib")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("f.zarr").path
        let address = StoreAddress(format: .zarr, path: path, key: "volumes/labels")
        _ = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(2, 2, 2), dataType: .uint64, chunkShape: Coordinate(2, 2, 2)),
                                 options: ZarrOptions(writeOMEMetadata: false))
        #expect(!FileManager.default.fileExists(atPath: path + "/volumes/.zattrs"))
        try writeJSON(["resolution": [40, 4, 4], "offset": [1520, 3644, 3644]], to: path + "/volumes/labels/.zattrs")
        let metadata = try ZarrStore.open(address).metadata
        #expect(metadata.voxelSize == VoxelSize(40, 4, 4) && metadata.origin == WorldPoint(1520, 3644, 3644))
        try writeJSON(["voxel_size": [8, 8, 8]], to: path + "/volumes/labels/.zattrs")
        #expect(try ZarrStore.open(address).metadata.voxelSize == VoxelSize(8, 8, 8))
        try writeJSON(["resolution": [40, 0, 4]], to: path + "/volumes/labels/.zattrs")
        #expect(storageError { _ = try ZarrStore.open(address) }?.description.contains("'resolution'") == true)
    }

    @Test func omeTakesPrecedenceAndConvertsUnits() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-ome-read")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("o.zarr").path
        let address = StoreAddress(format: .zarr, path: path, key: "image/s1")
        _ = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(2, 2, 2), dataType: .uint8, chunkShape: Coordinate(2, 2, 2),
                                                           voxelSize: VoxelSize(1, 1, 1)))
        // Written by another tool: micrometres, two levels and a multiscale-level transform.
        let axes = ["z", "y", "x"].map { ["name": $0, "type": "space", "unit": "micrometer"] }
        try writeJSON(["multiscales": [["version": "0.4", "axes": axes,
                                        "coordinateTransformations": [["type": "scale", "scale": [2, 1, 1]], ["type": "translation", "translation": [0.5, 0, 0]]],
                                        "datasets": [
                                            ["path": "s0", "coordinateTransformations": [["type": "scale", "scale": [0.02, 0.004, 0.004]]]],
                                            ["path": "s1", "coordinateTransformations": [["type": "scale", "scale": [0.04, 0.008, 0.008]],
                                                                                         ["type": "translation", "translation": [0.01, 0.002, 0.002]]]],
                                        ]]]], to: path + "/image/.zattrs")
        let metadata = try ZarrStore.open(address).metadata
        // scale: 2 x 0.04 um = 80 nm; translation: 2 x 0.01 + 0.5 um = 520 nm.
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-9 } }
        #expect(close(metadata.voxelSize.components, [80, 8, 8]), "\(metadata.voxelSize)")
        #expect(close(metadata.origin.components, [520, 2, 2]), "\(metadata.origin)")
    }

    @Test func rootArrayCodecDescriptionsAndFillValues() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-root")
        defer { try? FileManager.default.removeItem(at: root) }
        let v2 = StoreAddress(format: .zarr, path: root.appendingPathComponent("r2.zarr").path, key: "")
        let store = try ZarrStore.create(v2, spec: VolumeSpec(shape: Coordinate(3, 3, 3), dataType: .float32, chunkShape: Coordinate(9, 9, 9),
                                                              voxelSize: VoxelSize(30, 6, 6), codec: .gzip(level: 4), fillValue: .nan))
        #expect(store.metadata.chunkShape == Coordinate(3, 3, 3))  // clipped to the shape
        #expect(store.metadata.voxelSize == VoxelSize(30, 6, 6) && store.metadata.codec == "gzip (level 4)")
        #expect(store.metadata.fillValue.isNaN)
        let zarray = try json(v2.path + "/.zarray")
        #expect(zarray["fill_value"] as? String == "NaN" && zarray["dtype"] as? String == "<f4" && zarray["dimension_separator"] as? String == "/")
        #expect((zarray["compressor"] as? [String: Any])?["id"] as? String == "gzip")

        let v3 = StoreAddress(format: .zarr, path: root.appendingPathComponent("r3.zarr").path, key: "")
        let sharded = try ZarrStore.create(v3, spec: VolumeSpec(shape: Coordinate(8, 8, 8), dataType: .uint32, chunkShape: Coordinate(2, 4, 4),
                                                                codec: .zstd(level: 7), fillValue: 5),
                                           options: ZarrOptions(version: 3, dimensionSeparator: ".", shardShape: Coordinate(4, 8, 8)))
        #expect(sharded.metadata.codec == "zstd (level 7), shards 4,8,8 of inner chunks 2,4,4")
        #expect(sharded.metadata.chunkShape == Coordinate(4, 8, 8) && sharded.decodeChunkShape == Coordinate(2, 4, 4))
        let document = try json(v3.path + "/zarr.json")
        #expect(document["fill_value"] as? Int == 5 && document["data_type"] as? String == "uint32")
        #expect((document["chunk_key_encoding"] as? [String: Any])?["configuration"] as? [String: String] == ["separator": "."])
    }

    @Test func bytesOnDiskSumsEveryFile() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-size")
        defer { try? FileManager.default.removeItem(at: root) }
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("s.zarr").path, key: "raw")
        let store = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(10, 32, 32), dataType: .uint16, chunkShape: Coordinate(5, 16, 16),
                                                                   codec: .raw))
        try store.write(referenceVolume(Coordinate(10, 32, 32), as: UInt16.self))
        var expected: Int64 = 0
        let directory = address.path + "/raw"
        for case let name as String in FileManager.default.enumerator(atPath: directory)! {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            if attributes[.type] as? FileAttributeType == .typeRegular { expected += (attributes[.size] as! NSNumber).int64Value }
        }
        #expect(try store.bytesOnDisk() == expected)
        // z < 5 is all fill value, so only the 4 chunks of the second layer hold data (raw: 2 bytes per voxel).
        #expect(expected > 4 * 5 * 16 * 16 * 2 && expected < 4 * 5 * 16 * 16 * 2 + 2048)
    }
}
