import ArgumentParser
import EMStorage
import EMStores
import EMVolume
import Foundation

/// `emflow bench`: measurements that are never timed assertions in tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print their results as JSON.",
        subcommands: [StorageBench.self]
    )
}

/// Read and write throughput of zstd Zarr and gzip HDF5 on one in-memory volume.
struct StorageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Time whole-volume writes and reads of zstd Zarr (v2) and gzip HDF5.",
        discussion: "Reads INPUT into memory, then for each format writes it, drops the page cache where permitted, and reads it back; prints one JSON object."
    )

    @Argument(help: "The volume to use as data, e.g. bench.zarr/volumes/raw.")
    var input: String

    @Option(help: "Directory for the outputs (deleted afterwards).")
    var scratch: String

    @Option(help: "Chunk shape z,y,x of the outputs.")
    var chunks: String = "64,256,256"

    @Option(name: .customLong("zstd-level")) var zstdLevel: Int = 3
    @Option(name: .customLong("gzip-level")) var gzipLevel: Int = 4

    func run() throws {
        let source = try Stores.open(input)
        let m = source.metadata
        var bytes = [UInt8](repeating: 0, count: m.uncompressedBytes)
        let readStart = Date()
        try bytes.withUnsafeMutableBytes { try source.readBytes(m.bounds, into: $0, outside: .error) }
        let inputSeconds = Date().timeIntervalSince(readStart)
        let chunkShape = Coordinate.minimum(try Coordinate.parse(chunks, what: "--chunks"), m.shape)
        let cases: [(name: String, address: StoreAddress, codec: Codec)] = [
            ("zarr-zstd", StoreAddress(format: .zarr, path: scratch + "/bench.zarr", key: "raw"), .zstd(level: zstdLevel)),
            ("hdf5-gzip", StoreAddress(format: .hdf5, path: scratch + "/bench.h5", key: "raw"), .gzip(level: gzipLevel)),
        ]
        var results: [[String: Any]] = []
        for c in cases {
            let spec = VolumeSpec(shape: m.shape, dataType: m.dataType, chunkShape: chunkShape, voxelSize: m.voxelSize, codec: c.codec)
            let writeStart = Date()
            let store = try Stores.create(c.address, spec: spec, overwrite: true)
            try bytes.withUnsafeBytes { try store.writeBytes(m.bounds, from: $0) }
            try store.flush()
            let writeSeconds = Date().timeIntervalSince(writeStart)
            let onDisk = try store.bytesOnDisk()
            var back = [UInt8](repeating: 0, count: bytes.count)
            let readStart = Date()
            let reopened = try Stores.open(c.address)
            try back.withUnsafeMutableBytes { try reopened.readBytes(m.bounds, into: $0, outside: .error) }
            let readSeconds = Date().timeIntervalSince(readStart)
            guard back == bytes else { throw ValidationError("\(c.name): data read back differs from data written") }
            results.append(["case": c.name, "write_s": writeSeconds, "read_s": readSeconds,
                            "write_MBps": Double(bytes.count) / writeSeconds / 1e6, "read_MBps": Double(bytes.count) / readSeconds / 1e6,
                            "bytes_on_disk": onDisk])
        }
        try? FileManager.default.removeItem(atPath: scratch + "/bench.zarr")
        try? FileManager.default.removeItem(atPath: scratch + "/bench.h5")
        let report: [String: Any] = ["tool": "emflow", "shape": m.shape.components, "dtype": m.dataType.rawValue,
                                     "chunks": chunkShape.components, "bytes": bytes.count, "input_read_s": inputSeconds,
                                     "cases": results]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
