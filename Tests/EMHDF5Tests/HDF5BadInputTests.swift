import EMHDF5
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

@Suite("HDF5 bad input")
struct HDF5BadInputTests {
    /// A small gzip uint8 dataset at `volumes/raw` of `test.h5` in `directory`.
    private func makeFile(in directory: URL) throws -> HDF5Store {
        let spec = VolumeSpec(shape: Coordinate(8, 32, 32), dataType: .uint8, chunkShape: Coordinate(4, 16, 16), codec: .gzip(level: 1))
        let store = try HDF5Store.create(hdf5Address(directory), spec: spec)
        try store.write(patternVolume(store.metadata.bounds, as: UInt8.self))
        return store
    }

    @Test("a missing file, a non-HDF5 file named .h5 and a truncated HDF5 file are refused naming the file")
    func badFiles() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-badfiles")
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = hdf5Address(directory, "absent.h5")
        #expect(throws: StorageError.missing(path: missing.path, what: "HDF5 file")) { try HDF5Store.open(missing) }

        let text = hdf5Address(directory, "notes.h5")
        try Data("this is a text file, not HDF5\n".utf8).write(to: URL(fileURLWithPath: text.path))
        let notHDF5 = #expect(throws: StorageError.self) { try HDF5Store.open(text) }
        guard case let .io(path, reason) = notHDF5 else { Issue.record("got \(String(describing: notHDF5))"); return }
        #expect(path == text.path)
        #expect(reason.contains("not an HDF5 file"))
        // Creating a dataset in it must not destroy the user's file either.
        let spec = VolumeSpec(shape: Coordinate(2, 2, 2), dataType: .uint8, chunkShape: Coordinate(2, 2, 2), codec: .raw)
        #expect(throws: StorageError.self) { try HDF5Store.create(text, spec: spec) }
        #expect(try String(contentsOfFile: text.path, encoding: .utf8) == "this is a text file, not HDF5\n")

        let store = try makeFile(in: directory)
        let whole = try Data(contentsOf: URL(fileURLWithPath: store.address.path))
        let truncated = hdf5Address(directory, "truncated.h5")
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated.path))
        let error = #expect(throws: StorageError.self) {
            let damaged = try HDF5Store.open(truncated)
            _ = try damaged.readAll(as: UInt8.self)
        }
        #expect(error?.description.contains(truncated.path) == true, "\(String(describing: error))")

        // Damaged compressed chunk bytes (the chunks fill the file's second half).
        var damagedBytes = whole
        for i in (whole.count * 3 / 4)..<(whole.count * 3 / 4 + 64) { damagedBytes[i] ^= 0x5A }
        let damaged = hdf5Address(directory, "damaged.h5")
        try damagedBytes.write(to: URL(fileURLWithPath: damaged.path))
        let readError = #expect(throws: StorageError.self) { _ = try HDF5Store.open(damaged).readAll(as: UInt8.self) }
        #expect(readError?.description.contains(damaged.description) == true, "\(String(describing: readError))")
    }

    @Test("a missing dataset lists the file's datasets; a group is not a dataset")
    func missingDataset() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-missing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try makeFile(in: directory)
        for key in ["volumes/labels/synapse", "volumes", "nothing/here/at/all"] {
            let address = StoreAddress(format: .hdf5, path: store.address.path, key: key)
            let error = #expect(throws: StorageError.self) { try HDF5Store.open(address) }
            guard case let .missing(path, what) = error else { Issue.record("got \(String(describing: error))"); continue }
            #expect(path == store.address.path)
            #expect(what.contains("'\(key)'"))
            #expect(what.contains("datasets in the file: volumes/raw"))
        }
    }

    @Test("wrong element type and boxes outside the volume throw naming the dataset")
    func typeAndBox() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-typebox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try HDF5Store.open(try makeFile(in: directory).address)
        let label = store.address.description
        #expect(throws: StorageError.dataTypeMismatch(address: label, expected: "uint16", found: "uint8")) {
            try store.read(Box(shape: Coordinate(1, 1, 1)), as: UInt16.self)
        }
        let box = Box(offset: Coordinate(6, 30, 30), shape: Coordinate(4, 4, 4))
        #expect(throws: StorageError.outsideVolume(address: label, box: box.description, shape: "8,32,32")) {
            try store.read(box, as: UInt8.self)
        }
    }

    @Test("unwritable outputs and codecs HDF5 output lacks are refused before anything is written")
    func unwritableAndUnsupported() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-unwritable")
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = VolumeSpec(shape: Coordinate(4, 4, 4), dataType: .uint8, chunkShape: Coordinate(2, 2, 2), codec: .gzip(level: 3))

        // The output's directory cannot be made: a file stands where it should be.
        try Data("x".utf8).write(to: directory.appendingPathComponent("blocker"))
        let blocked = StoreAddress(format: .hdf5, path: directory.appendingPathComponent("blocker/out.h5").path, key: "pred")
        let error = #expect(throws: StorageError.self) { try HDF5Store.create(blocked, spec: spec) }
        guard case let .unwritable(path, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == blocked.description)

        if geteuid() != 0 { // permission bits do not stop root
            let locked = directory.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
            let address = StoreAddress(format: .hdf5, path: locked.appendingPathComponent("out.h5").path, key: "pred")
            #expect(throws: StorageError.self) { try HDF5Store.create(address, spec: spec) }
        }

        let output = hdf5Address(directory, "codec.h5", "pred")
        for codec in [Codec.zstd(level: 3), .blosc(compressor: .lz4, level: 5, shuffle: .byte)] {
            var withCodec = spec
            withCodec.codec = codec
            let error = #expect(throws: StorageError.self) { try HDF5Store.create(output, spec: withCodec) }
            #expect(error == .unsupported(path: output.description,
                                          feature: "codec \(codec): HDF5 output supports gzip or raw; zstd/blosc need HDF5 plugins"))
        }
        var badLevel = spec
        badLevel.codec = .gzip(level: 12)
        #expect(throws: StorageError.malformedMetadata(path: output.description, key: "codec", expected: "a gzip level 0-9, got 12")) {
            try HDF5Store.create(output, spec: badLevel)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path), "a failed create left a file behind")

        #expect(throws: StorageError.self) { try HDF5Store.open(StoreAddress(format: .zarr, path: directory.path + "/a.zarr", key: "x")) }
        #expect(throws: StorageError.self) { try HDF5Store.open(StoreAddress(format: .hdf5, path: output.path, key: "")) }
    }

    @Test("datasets emflow cannot use (float64, int32, bool, rank 4, bad attributes) are refused with the expectation",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func unsupportedDatasets() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-unsupported")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("odd.h5").path
        try runPython("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], 'w') as f:
                f['float64'] = np.zeros((2, 3, 4), 'f8')
                f['int32'] = np.zeros((2, 3, 4), 'i4')
                f['bool'] = np.zeros((2, 3, 4), bool)
                f['rank4'] = np.zeros((2, 3, 4, 5), 'u1')
                f['text_resolution'] = np.zeros((2, 3, 4), 'u1')
                f['text_resolution'].attrs['resolution'] = 'forty by four'
                f['short_offset'] = np.zeros((2, 3, 4), 'u1')
                f['short_offset'].attrs['offset'] = np.array([1.0, 2.0])
                f['zero_resolution'] = np.zeros((2, 3, 4), 'u1')
                f['zero_resolution'].attrs['resolution'] = np.array([40, 0, 4])
            """, [file])
        func failure(_ key: String) -> StorageError? {
            #expect(throws: StorageError.self) { try HDF5Store.open(StoreAddress(format: .hdf5, path: file, key: key)) }
        }
        let supported = "(supported: uint8, uint16, uint32, uint64, float32)"
        #expect(failure("float64") == .unsupported(path: "\(file):float64", feature: "data type float64 \(supported)"))
        #expect(failure("int32") == .unsupported(path: "\(file):int32", feature: "data type int32 (signed) \(supported)"))
        #expect(failure("bool") == .unsupported(path: "\(file):bool", feature: "data type enum (e.g. bool) \(supported)"))
        #expect(failure("rank4")?.description.contains("rank 4 (shape 2x3x4x5)") == true)
        #expect(failure("text_resolution") == .malformedMetadata(path: "\(file):text_resolution", key: "resolution",
                                                                 expected: "3 numbers (nm, axes z y x), found a non-numeric attribute"))
        #expect(failure("short_offset") == .malformedMetadata(path: "\(file):short_offset", key: "offset",
                                                              expected: "3 numbers (nm, axes z y x), found 2"))
        #expect(failure("zero_resolution")?.description.contains("positive voxel sizes") == true)
        // The listing used for hints shows the volumes, whatever their type, and skips rank 4.
        #expect(try HDF5Store.listDatasets(path: file) == ["bool", "float64", "int32", "short_offset", "text_resolution", "zero_resolution"])
    }
}
