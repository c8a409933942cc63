import Foundation
import Testing
import EMVolume
@testable import EMStorage

@Suite("StoreAddress")
struct AddressTests {
    @Test func parsesEachFormat() throws {
        #expect(try StoreAddress.parse("data/a.h5:volumes/raw") == StoreAddress(format: .hdf5, path: "data/a.h5", key: "volumes/raw"))
        #expect(try StoreAddress.parse("a.HDF5:/raw") == StoreAddress(format: .hdf5, path: "a.HDF5", key: "raw"))
        #expect(try StoreAddress.parse("out.zarr/pred") == StoreAddress(format: .zarr, path: "out.zarr", key: "pred"))
        #expect(try StoreAddress.parse("/tmp/x/out.zarr/a/b/") == StoreAddress(format: .zarr, path: "/tmp/x/out.zarr", key: "a/b"))
        #expect(try StoreAddress.parse("out.zarr:pred/s0") == StoreAddress(format: .zarr, path: "out.zarr", key: "pred/s0"))
        #expect(try StoreAddress.parse("out.zarr") == StoreAddress(format: .zarr, path: "out.zarr", key: ""))
        #expect(try StoreAddress.parse("slices/*.tif") == StoreAddress(format: .tiff, path: "slices/*.tif"))
        #expect(try StoreAddress.parse("stack.TIFF") == StoreAddress(format: .tiff, path: "stack.TIFF"))
    }

    @Test func roundTripsThroughDescription() throws {
        for text in ["a.h5:volumes/raw", "out.zarr/pred", "out.zarr", "s/*.tif"] {
            #expect(try StoreAddress.parse(try StoreAddress.parse(text).description).description == StoreAddress.parse(text).description)
        }
    }

    @Test func rejectsWithUsefulMessages() {
        for bad in ["", "a.h5", "a.h5:", "volume.raw"] {
            #expect(throws: StorageError.self) { try StoreAddress.parse(bad) }
        }
        do {
            _ = try StoreAddress.parse("a.h5")
        } catch {
            #expect("\(error)".contains("a.h5:volumes/raw"))
        }
    }
}

@Suite("ChunkGrid and AtomicFile")
struct ChunkGridTests {
    @Test func chunksOverlappingAndAlignment() {
        let grid = ChunkGrid(shape: Coordinate(10, 10, 10), chunkShape: Coordinate(4, 4, 4))
        #expect(grid.gridShape == Coordinate(3, 3, 3))
        #expect(grid.chunks(overlapping: Box(offset: Coordinate(3, 0, 4), shape: Coordinate(2, 1, 4))) ==
                [Coordinate(0, 0, 1), Coordinate(1, 0, 1)])
        #expect(grid.chunks(overlapping: Box(offset: Coordinate(-5, -5, -5), shape: Coordinate(2, 2, 2))).isEmpty)
        #expect(grid.box(ofChunk: Coordinate(2, 2, 2)) == Box(offset: Coordinate(8, 8, 8), shape: Coordinate(2, 2, 2)))
        #expect(grid.isAligned(Box(offset: Coordinate(4, 8, 0), shape: Coordinate(4, 2, 10))))
        #expect(!grid.isAligned(Box(offset: Coordinate(4, 8, 0), shape: Coordinate(3, 2, 10))))
        #expect(!grid.isAligned(Box(offset: Coordinate(1, 8, 0), shape: Coordinate(3, 2, 10))))
    }

    @Test func atomicWriteReplacesAndLeavesNoTemporaries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emflow-atomic-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("sub/file.bin").path
        try AtomicFile.write("first", to: path)
        try AtomicFile.write("second", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("sub").path)
        #expect(listing == ["file.bin"])
        #expect(throws: StorageError.self) { try AtomicFile.write("x", to: "/proc/emflow-not-writable/file", createDirectories: false) }
    }
}
