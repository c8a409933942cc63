import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// Bad files and bad requests give a `StorageError` naming the file or key, never a crash.
@Suite("Zarr errors")
struct ZarrErrorTests {
    /// A small written array and its files.
    struct Fixture {
        let root: URL
        let address: StoreAddress
        var directory: String { address.path + "/" + address.key }
        var metadataFile: String
    }

    /// Creates `root/f.zarr/volumes/raw` (4x8x8 uint8, 2x4x4 chunks) filled with data.
    func fixture(_ codec: Codec = .zstd(level: 3), options: ZarrOptions = ZarrOptions()) throws -> Fixture {
        let root = try TestEnvironment.temporaryDirectory("zarr-errors")
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("f.zarr").path, key: "volumes/raw")
        let store = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(4, 8, 8), dataType: .uint8,
                                                                   chunkShape: Coordinate(2, 4, 4), codec: codec), options: options)
        try store.write(Volume<UInt8>(box: Box(shape: Coordinate(4, 8, 8)), storage: (0..<256).map { UInt8($0 % 251 + 1) }))
        return Fixture(root: root, address: address, metadataFile: address.path + "/volumes/raw/" + (options.version == 2 ? ".zarray" : "zarr.json"))
    }

    /// Rewrites a metadata file through a JSON dictionary edit.
    func editMetadata(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&document)
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
    }

    /// Expects `open` to fail with an error whose description contains every fragment.
    func expectOpenFails(_ f: Fixture, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = storageError(sourceLocation: sourceLocation, { _ = try ZarrStore.open(f.address) }) else { return }
        for fragment in fragments {
            #expect(error.description.contains(fragment), "'\(error)' does not name '\(fragment)'", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [Codec.zstd(level: 3), .gzip(level: 5), .zlib(level: 5), .blosc(compressor: .lz4, level: 5, shuffle: .byte), .raw])
    func truncatedAndGarbageChunks(codec: Codec) throws {
        let f = try fixture(codec)
        defer { try? FileManager.default.removeItem(at: f.root) }
        let chunk = f.directory + "/1/0/1"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: chunk))
        let store = try ZarrStore.open(f.address)
        var damages = [bytes.prefix(bytes.count / 2), Data()]
        // Garbage of the right size is undetectable without a compressor.
        if codec != .raw { damages.append(Data((0..<bytes.count).map { UInt8(($0 * 37 + 11) % 256) })) }
        for damaged in damages {
            try damaged.write(to: URL(fileURLWithPath: chunk))
            guard let error = storageError({ _ = try store.readAll(as: UInt8.self) }) else { continue }
            guard case .corruptChunk = error else { Issue.record("\(codec): \(error)"); continue }
            #expect(error.description.contains(chunk), "\(error)")
        }
        // Reads that do not touch the damaged chunk still work.
        #expect(try store.read(Box(shape: Coordinate(2, 8, 8)), as: UInt8.self).storage == (0..<128).map { UInt8($0 % 251 + 1) })
    }

    @Test func damagedShards() throws {
        let f = try fixture(.zstd(level: 3), options: ZarrOptions(version: 3, shardShape: Coordinate(2, 8, 8)))
        defer { try? FileManager.default.removeItem(at: f.root) }
        let shard = URL(fileURLWithPath: f.directory + "/c/1/0/0")
        let store = try ZarrStore.open(f.address)
        var bytes = try Data(contentsOf: shard)
        bytes[bytes.count - 10] ^= 0xFF  // inside the index: the crc32c must catch it
        try bytes.write(to: shard)
        let crc = storageError { _ = try store.readAll(as: UInt8.self) }
        #expect(crc?.description.contains("crc32c") == true && crc?.description.contains(shard.path) == true, "\(String(describing: crc))")
        try Data([1, 2, 3]).write(to: shard)
        let short = storageError { _ = try store.readAll(as: UInt8.self) }
        #expect(short?.description.contains("shorter than its") == true && short?.description.contains(shard.path) == true, "\(String(describing: short))")
    }

    @Test func malformedV2Metadata() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let original = try Data(contentsOf: URL(fileURLWithPath: f.metadataFile))
        func restore() throws { try original.write(to: URL(fileURLWithPath: f.metadataFile)) }

        try Data("{\"zarr_format\": 2, \"shape\": [4, 8,".utf8).write(to: URL(fileURLWithPath: f.metadataFile))
        expectOpenFails(f, [f.metadataFile, "valid JSON"])
        // Found by benchmarks/run-fuzz.sh: bytes that are not UTF-8 stopped the process inside
        // Foundation's JSON5 scanner.
        try Data([0x0a, 0x7b, 0x0a] + [UInt8](repeating: 0xff, count: 30)).write(to: URL(fileURLWithPath: f.metadataFile))
        expectOpenFails(f, [f.metadataFile, "not UTF-8"])
        try restore(); try editMetadata(f.metadataFile) { $0["compressor"] = ["id": "lzma", "preset": 6] }
        expectOpenFails(f, [f.metadataFile, "lzma", "zstd"])
        try restore(); try editMetadata(f.metadataFile) { $0["filters"] = [["id": "delta", "dtype": "<u2"]] }
        expectOpenFails(f, [f.metadataFile, "delta"])
        try restore(); try editMetadata(f.metadataFile) { $0["order"] = "F" }
        expectOpenFails(f, [f.metadataFile, "order 'F'"])
        try restore(); try editMetadata(f.metadataFile) { $0["dtype"] = "<i2" }
        expectOpenFails(f, [f.metadataFile, "'<i2'", "dtype"])
        try restore(); try editMetadata(f.metadataFile) { $0.removeValue(forKey: "shape") }
        expectOpenFails(f, [f.metadataFile, "'shape'", "missing"])
        try restore(); try editMetadata(f.metadataFile) { $0["chunks"] = "2,4,4" }
        expectOpenFails(f, [f.metadataFile, "'chunks'", "array"])
        try restore(); try editMetadata(f.metadataFile) { $0["shape"] = [8, 8] }
        expectOpenFails(f, [f.metadataFile, "2-dimensional"])
        try restore(); try editMetadata(f.metadataFile) { $0["compressor"] = ["id": "blosc", "cname": "snappy"] }
        expectOpenFails(f, [f.metadataFile, "snappy"])
        try restore(); try editMetadata(f.metadataFile) { $0["fill_value"] = "zero" }
        expectOpenFails(f, [f.metadataFile, "'fill_value'"])
        try restore()
        #expect(try ZarrStore.open(f.address).metadata.shape == Coordinate(4, 8, 8))
    }

    @Test func malformedV3Metadata() throws {
        let f = try fixture(options: ZarrOptions(version: 3))
        defer { try? FileManager.default.removeItem(at: f.root) }
        let original = try Data(contentsOf: URL(fileURLWithPath: f.metadataFile))
        func restore() throws { try original.write(to: URL(fileURLWithPath: f.metadataFile)) }

        try editMetadata(f.metadataFile) { $0["codecs"] = [["name": "bytes"], ["name": "lzma"]] }
        expectOpenFails(f, [f.metadataFile, "lzma", "codecs[1]"])
        try restore(); try editMetadata(f.metadataFile) { $0["codecs"] = [["name": "transpose", "configuration": ["order": [2, 1, 0]]], ["name": "bytes"]] }
        expectOpenFails(f, [f.metadataFile, "transpose"])
        try restore(); try editMetadata(f.metadataFile) { $0["data_type"] = "int16" }
        expectOpenFails(f, [f.metadataFile, "int16"])
        try restore(); try editMetadata(f.metadataFile) { $0.removeValue(forKey: "chunk_grid") }
        expectOpenFails(f, [f.metadataFile, "'chunk_grid'"])
        try restore(); try editMetadata(f.metadataFile) { $0["codecs"] = [["name": "zstd"]] }
        expectOpenFails(f, [f.metadataFile, "zstd", "must follow 'bytes'"])
        try restore(); try editMetadata(f.metadataFile) { $0["node_type"] = "table" }
        expectOpenFails(f, [f.metadataFile, "node_type"])
        try restore()
        // The identity transpose is accepted.
        try editMetadata(f.metadataFile) { document in
            var codecs = document["codecs"] as! [Any]
            codecs.insert(["name": "transpose", "configuration": ["order": [0, 1, 2]]], at: 0)
            document["codecs"] = codecs
        }
        #expect(try ZarrStore.open(f.address).readAll(as: UInt8.self).storage == (0..<256).map { UInt8($0 % 251 + 1) })
    }

    @Test func malformedOMEMetadataNamesTheGroupFile() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let groupAttributes = f.address.path + "/volumes/.zattrs"
        try editMetadata(groupAttributes) { attributes in
            var multiscales = attributes["multiscales"] as! [[String: Any]]
            multiscales[0]["datasets"] = [["path": "raw", "coordinateTransformations": [["type": "scale", "scale": [4, 4]]]]]
            attributes["multiscales"] = multiscales
        }
        expectOpenFails(f, [groupAttributes, "multiscales[0].datasets[0].coordinateTransformations[0].scale"])
    }

    @Test func badRequests() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let store = try ZarrStore.open(f.address)
        let path = f.address.path

        let mismatch = storageError { _ = try store.readAll(as: UInt16.self) }
        #expect(mismatch == .dataTypeMismatch(address: f.address.description, expected: "uint16", found: "uint8"))
        let outside = storageError { _ = try store.read(Box(offset: Coordinate(0, 0, 6), shape: Coordinate(1, 1, 4)), as: UInt8.self) }
        #expect(outside?.description.contains("outside the volume") == true && outside?.description.contains(f.address.description) == true)
        let unaligned = storageError { try store.write(Volume<UInt8>(box: Box(offset: Coordinate(1, 0, 0), shape: Coordinate(2, 4, 4)))) }
        #expect({ if case .notChunkAligned? = unaligned { return true } else { return false } }())

        let missingArray = storageError { _ = try ZarrStore.open(StoreAddress(format: .zarr, path: path, key: "volumes/nothere")) }
        #expect(missingArray?.description.contains(path + "/volumes/nothere") == true)
        let group = storageError { _ = try ZarrStore.open(StoreAddress(format: .zarr, path: path, key: "volumes")) }
        #expect(group?.description.contains("group") == true)

        let spec = VolumeSpec(shape: Coordinate(4, 8, 8), dataType: .uint8, chunkShape: Coordinate(2, 4, 4))
        let exists = storageError { _ = try ZarrStore.create(f.address, spec: spec) }
        #expect(exists?.description.contains(f.directory) == true && exists?.description.contains("pass overwrite") == true)
        #expect(try ZarrStore.create(f.address, spec: spec, overwrite: true).readAll(as: UInt8.self).storage.allSatisfy { $0 == 0 })

        let file = f.root.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let underFile = storageError { _ = try ZarrStore.create(StoreAddress(format: .zarr, path: file.path + "/out.zarr", key: "raw"), spec: spec) }
        #expect({ if case .unwritable? = underFile { return true } else { return false } }(), "\(String(describing: underFile))")
        #expect(underFile?.description.contains(file.path) == true)

        let badShards = storageError { _ = try ZarrStore.create(StoreAddress(format: .zarr, path: path, key: "s"), spec: spec,
                                                                options: ZarrOptions(version: 3, shardShape: Coordinate(3, 4, 4))) }
        #expect(badShards?.description.contains("shardShape") == true)
        let v2Shards = storageError { _ = try ZarrStore.create(StoreAddress(format: .zarr, path: path, key: "s"), spec: spec,
                                                               options: ZarrOptions(version: 2, shardShape: Coordinate(4, 8, 8))) }
        #expect(v2Shards?.description.contains("version 3") == true)
    }
}
