import EMHDF5
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

/// Storage layouts the round trips cover.
enum TestLayout: String, CaseIterable, CustomTestStringConvertible {
    case chunkedGzip, chunkedRaw, contiguous

    var codec: Codec { self == .chunkedGzip ? .gzip(level: 4) : .raw }
    var testDescription: String { rawValue }

    /// A spec for `shape`: chunks 4x8x16 (not dividing the shape), or one chunk for contiguous.
    func spec(_ shape: Coordinate, _ dataType: DataType) -> VolumeSpec {
        VolumeSpec(shape: shape, dataType: dataType, chunkShape: self == .contiguous ? shape : Coordinate(4, 8, 16),
                   voxelSize: VoxelSize(40, 4.5, 4), origin: WorldPoint(80, -9, 12), codec: codec, fillValue: 3)
    }
}

@Suite("HDF5 round trips")
struct HDF5RoundTripTests {
    static let shape = Coordinate(10, 19, 37)

    /// Boxes crossing chunk borders, touching the volume's edges, a single voxel, and boxes
    /// partly outside the volume.
    static let boxes = [
        Box(begin: Coordinate(3, 5, 14), end: Coordinate(9, 18, 35)),
        Box(begin: Coordinate(6, 15, 30), end: Coordinate(10, 19, 37)),
        Box(begin: Coordinate(0, 0, 0), end: Coordinate(1, 1, 1)),
        Box(begin: Coordinate(4, 8, 16), end: Coordinate(8, 16, 32)),
        Box(begin: Coordinate(-2, 17, -1), end: Coordinate(3, 22, 40)),
        Box(begin: Coordinate(9, -3, 36), end: Coordinate(12, 2, 41)),
    ]

    @Test("every dtype and layout round-trips; boxes match a naive reference", arguments: DataType.allCases, TestLayout.allCases)
    func roundTrip(dataType: DataType, layout: TestLayout) throws {
        switch dataType {
        case .uint8: try roundTrip(UInt8.self, layout)
        case .uint16: try roundTrip(UInt16.self, layout)
        case .uint32: try roundTrip(UInt32.self, layout)
        case .uint64: try roundTrip(UInt64.self, layout)
        case .float32: try roundTrip(Float.self, layout)
        }
    }

    private func roundTrip<T: PatternScalar>(_ type: T.Type, _ layout: TestLayout) throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-roundtrip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = hdf5Address(directory, "out.h5", "volumes/pred/\(T.dataType)")
        let spec = layout.spec(Self.shape, T.dataType)
        let store = try HDF5Store.create(address, spec: spec)
        let reference = patternVolume(Box(shape: Self.shape), as: T.self)
        try writeInBlocks(reference, to: store, blockChunks: Coordinate(1, 2, 1))
        try store.flush()

        let reopened = try HDF5Store.open(address)
        let metadata = reopened.metadata
        #expect(metadata.shape == Self.shape)
        #expect(metadata.dataType == T.dataType)
        #expect(metadata.chunkShape == (layout == .contiguous ? Self.shape : Coordinate(4, 8, 16)))
        #expect(metadata.codec == (layout == .chunkedGzip ? "gzip (level 4)" : "raw"))
        #expect(metadata.voxelSize == spec.voxelSize)
        #expect(metadata.origin == spec.origin)
        #expect(metadata.fillValue == 3)

        #expect(try reopened.readAll(as: T.self) == reference)
        for box in Self.boxes {
            let fill = T(clampingDouble: 7)
            #expect(try reopened.read(box, as: T.self, fill: fill) == naiveRead(reference, box, fill: fill), "box \(box)")
            if !metadata.bounds.contains(box) {
                #expect(throws: StorageError.self) { try reopened.read(box, as: T.self) }
            }
        }
        let entirelyOutside = Box(offset: Coordinate(20, 0, 0), shape: Coordinate(2, 2, 2))
        #expect(try reopened.read(entirelyOutside, as: T.self, fill: T(clampingDouble: 5)).storage.allSatisfy { $0 == T(clampingDouble: 5) })
        #expect(try store.bytesOnDisk() == Int64(try FileManager.default.attributesOfItem(atPath: address.path)[.size] as! UInt64))
    }

    @Test("chunks never written read as the fill value; gzip shrinks a smooth volume")
    func fillValueAndCompression() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-fill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shape = Coordinate(16, 64, 64)
        let spec = VolumeSpec(shape: shape, dataType: .uint16, chunkShape: Coordinate(8, 32, 32), codec: .gzip(level: 6), fillValue: 513)
        let store = try HDF5Store.create(hdf5Address(directory), spec: spec)
        let chunk = Box(offset: Coordinate(8, 32, 0), shape: Coordinate(8, 32, 32))
        var written = Volume<UInt16>(box: chunk)
        for i in written.storage.indices { written.storage[i] = UInt16(i / 64) }
        try store.write(written)

        let all = try store.readAll(as: UInt16.self)
        var expected = Volume<UInt16>(box: Box(shape: shape), repeating: 513)
        expected.paste(written)
        #expect(all == expected)
        // A smooth chunk of 16 KiB compresses to far less; the file holds one allocated chunk.
        #expect(try store.bytesOnDisk() < 8 * 1024)
    }

    @Test("create adds datasets beside existing ones, refuses an existing one, and overwrite replaces only it")
    func createAndOverwrite() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-create")
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = hdf5Address(directory, "sample.h5", "volumes/raw")
        let labels = hdf5Address(directory, "sample.h5", "volumes/labels/synapse")
        let spec = VolumeSpec(shape: Coordinate(4, 8, 8), dataType: .uint8, chunkShape: Coordinate(2, 4, 4), codec: .gzip(level: 1))
        let rawVolume = patternVolume(Box(shape: spec.shape), seed: 5, as: UInt8.self)
        try HDF5Store.create(raw, spec: spec).write(rawVolume)
        var labelSpec = spec
        labelSpec.dataType = .uint32
        try HDF5Store.create(labels, spec: labelSpec).write(patternVolume(Box(shape: spec.shape), seed: 6, as: UInt32.self))
        #expect(try HDF5Store.listDatasets(path: raw.path) == ["volumes/labels/synapse", "volumes/raw"])

        let error = #expect(throws: StorageError.self) { try HDF5Store.create(labels, spec: labelSpec) }
        guard case let .unwritable(path, reason) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == labels.description)
        #expect(reason.contains("exists"))

        // The group on the way cannot be replaced by a dataset.
        let group = hdf5Address(directory, "sample.h5", "volumes/labels")
        #expect(throws: StorageError.self) { try HDF5Store.create(group, spec: spec, overwrite: true) }

        let before = try HDF5Store.open(labels)
        var replacement = labelSpec
        replacement.shape = Coordinate(3, 5, 7)
        replacement.dataType = .float32
        let replaced = try HDF5Store.create(labels, spec: replacement, overwrite: true)
        let stale = #expect(throws: StorageError.self) { try before.read(Box(shape: Coordinate(1, 1, 1)), as: UInt32.self) }
        #expect(stale?.description.contains("changed since it was opened") == true)
        #expect(replaced.metadata.shape == Coordinate(3, 5, 7))
        #expect(replaced.metadata.dataType == .float32)
        #expect(try HDF5Store.open(raw).readAll(as: UInt8.self) == rawVolume)
    }

    @Test("writes must be chunk-aligned, inside the volume, and to a writable store")
    func writeChecks() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-writechecks")
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = hdf5Address(directory)
        let spec = VolumeSpec(shape: Coordinate(4, 8, 8), dataType: .uint8, chunkShape: Coordinate(2, 4, 4), codec: .raw)
        let store = try HDF5Store.create(address, spec: spec)
        let unaligned = Volume<UInt8>(box: Box(offset: Coordinate(1, 0, 0), shape: Coordinate(2, 4, 4)))
        #expect(throws: StorageError.notChunkAligned(address: address.description, box: unaligned.box.description, chunks: "2,4,4")) {
            try store.write(unaligned)
        }
        let outside = Volume<UInt8>(box: Box(offset: Coordinate(4, 0, 0), shape: Coordinate(2, 4, 4)))
        #expect(throws: StorageError.self) { try store.write(outside) }

        let readOnly = try HDF5Store.open(address)
        let error = #expect(throws: StorageError.self) { try readOnly.write(Volume<UInt8>(box: Box(shape: Coordinate(2, 4, 4)))) }
        #expect(error?.description.contains("read-only") == true)
        // The edge chunk ends at the volume's end: aligned.
        try store.write(Volume<UInt8>(box: Box(offset: Coordinate(2, 4, 4), shape: Coordinate(2, 4, 4)), repeating: 9))
        #expect(try readOnly.read(Box(offset: Coordinate(3, 7, 7), shape: Coordinate(1, 1, 1)), as: UInt8.self).storage == [9])
    }
}
