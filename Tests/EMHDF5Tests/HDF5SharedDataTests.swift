import EMHDF5
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

/// One dataset of the project's real EM files and what h5py reports about it.
struct SharedDataset: CustomTestStringConvertible, Sendable {
    var file: String
    var key: String
    var shape: Coordinate
    var dataType: DataType
    var chunks: Coordinate
    var resolution: VoxelSize
    /// A box crossing chunk borders, for the comparison with h5py.
    var box: Box

    var testDescription: String { "\(file):\(key)" }
    var address: StoreAddress {
        StoreAddress(format: .hdf5, path: TestEnvironment.sharedData!.appendingPathComponent(file).path, key: key)
    }
}

@Suite("HDF5 real EM data", .enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)))
struct HDF5SharedDataTests {
    static let vnc = VoxelSize(50, 4.6, 4.6)
    static let datasets = [
        SharedDataset(file: "vnc-synapse/train.h5", key: "volumes/raw", shape: Coordinate(20, 512, 1024), dataType: .uint8,
                      chunks: Coordinate(3, 64, 128), resolution: vnc, box: Box(begin: Coordinate(2, 60, 100), end: Coordinate(9, 200, 400))),
        SharedDataset(file: "vnc-synapse/train.h5", key: "volumes/labels/synapse", shape: Coordinate(20, 512, 1024), dataType: .uint8,
                      chunks: Coordinate(3, 64, 128), resolution: vnc, box: Box(begin: Coordinate(0, 0, 0), end: Coordinate(20, 512, 1024))),
        SharedDataset(file: "vnc-synapse/val.h5", key: "volumes/raw", shape: Coordinate(20, 512, 512), dataType: .uint8,
                      chunks: Coordinate(3, 64, 128), resolution: vnc, box: Box(begin: Coordinate(17, 450, 500), end: Coordinate(20, 512, 512))),
        SharedDataset(file: "isbi2012-membrane/train.h5", key: "volumes/raw", shape: Coordinate(30, 512, 512), dataType: .uint8,
                      chunks: Coordinate(4, 64, 128), resolution: VoxelSize(50, 4, 4), box: Box(begin: Coordinate(3, 63, 127), end: Coordinate(9, 130, 260))),
        SharedDataset(file: "neuroproof-medulla/sample2.h5", key: "volumes/raw", shape: Coordinate(250, 250, 250), dataType: .uint8,
                      chunks: Coordinate(32, 32, 32), resolution: VoxelSize(10, 10, 10), box: Box(begin: Coordinate(30, 31, 200), end: Coordinate(70, 90, 250))),
        SharedDataset(file: "neuroproof-medulla/sample2.h5", key: "volumes/labels/neuron_ids", shape: Coordinate(250, 250, 250), dataType: .uint32,
                      chunks: Coordinate(16, 32, 32), resolution: VoxelSize(10, 10, 10), box: Box(begin: Coordinate(15, 0, 33), end: Coordinate(49, 64, 120))),
    ]

    @Test("metadata matches the files: shape, type, chunks, gzip level 4, resolution, zero offset", arguments: datasets)
    func metadata(_ dataset: SharedDataset) throws {
        let store = try HDF5Store.open(dataset.address)
        let metadata = store.metadata
        #expect(metadata.shape == dataset.shape)
        #expect(metadata.dataType == dataset.dataType)
        #expect(metadata.chunkShape == dataset.chunks)
        #expect(metadata.codec == "gzip (level 4)")
        #expect(metadata.voxelSize == dataset.resolution)
        #expect(metadata.origin == .zero)
        #expect(try store.bytesOnDisk() > 1_000_000)
    }

    @Test("a box read equals h5py's read of the same box", .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)),
          arguments: datasets)
    func boxMatchesH5py(_ dataset: SharedDataset) throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-shared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = directory.appendingPathComponent("box.bin")
        let b = dataset.box
        try runPython("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], 'r') as f:
                a = f[sys.argv[2]][\(b.offset.z):\(b.end.z), \(b.offset.y):\(b.end.y), \(b.offset.x):\(b.end.x)]
            np.ascontiguousarray(a.astype(a.dtype.newbyteorder('='))).tofile(sys.argv[3])
            """, [dataset.address.path, dataset.key, expected.path])
        let store = try HDF5Store.open(dataset.address)
        switch dataset.dataType {
        case .uint8:
            let read = try store.read(b, as: UInt8.self)
            #expect(read == (try volumeFromFile(expected, box: b, as: UInt8.self)))
            #expect(Set(read.storage).count > 1, "the box should not be constant")
        case .uint32:
            let read = try store.read(b, as: UInt32.self)
            #expect(read == (try volumeFromFile(expected, box: b, as: UInt32.self)))
            #expect(Set(read.storage).count > 1, "the box should not be constant")
        default:
            Issue.record("no comparison for \(dataset.dataType)")
        }
    }

    @Test("the datasets of a file are listed, and a missing key names them")
    func listingAndMissingKey() throws {
        let path = TestEnvironment.sharedData!.appendingPathComponent("vnc-synapse/train.h5").path
        let expected = ["volumes/labels/membrane", "volumes/labels/mitochondria", "volumes/labels/synapse", "volumes/raw"]
        #expect(try HDF5Store.listDatasets(path: path) == expected)
        let error = #expect(throws: StorageError.self) {
            try HDF5Store.open(StoreAddress(format: .hdf5, path: path, key: "volumes/rawdata"))
        }
        guard case let .missing(file, what) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(file == path)
        #expect(what.contains("'volumes/rawdata'"))
        for key in expected { #expect(what.contains(key)) }
    }
}
