import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// Several writers on distinct chunks of one array, atomic replacement of a chunk under
/// concurrent readers, and emflow writing beside a zarr-python process.
@Suite("Zarr concurrent writers")
struct ZarrConcurrencyTests {
    static let shape = Coordinate(20, 40, 40)
    static let chunks = Coordinate(5, 10, 10)

    @Test(arguments: [ZarrOptions(version: 2), ZarrOptions(version: 3, dimensionSeparator: "."),
                      ZarrOptions(version: 3, shardShape: Coordinate(5, 20, 20))])
    func threadsWritingDistinctChunks(options: ZarrOptions) throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-threads")
        defer { try? FileManager.default.removeItem(at: root) }
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("c.zarr").path, key: "pred")
        let shared = try ZarrStore.create(address, spec: VolumeSpec(shape: Self.shape, dataType: .uint32, chunkShape: Self.chunks,
                                                                    codec: .blosc(compressor: .zstd, level: 3, shuffle: .byte)), options: options)
        let reference = referenceVolume(Self.shape, as: UInt32.self)
        let units = shared.chunkGrid.chunks(overlapping: shared.metadata.bounds)
        let failures = NSLock()
        nonisolated(unsafe) var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: units.count) { i in
            do {
                // Odd units use a store of their own, as another process would.
                let store = i % 2 == 0 ? shared : try ZarrStore.open(address)
                try store.write(reference.cropped(to: store.chunkGrid.box(ofChunk: units[i])))
            } catch {
                failures.lock(); errors.append("\(error)"); failures.unlock()
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(try ZarrStore.open(address).readAll(as: UInt32.self) == reference)
        #expect(temporaryLeftovers(root).isEmpty)
    }

    @Test func readersNeverSeeAPartlyReplacedChunk() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-atomic")
        defer { try? FileManager.default.removeItem(at: root) }
        let address = StoreAddress(format: .zarr, path: root.appendingPathComponent("a.zarr").path, key: "x")
        let store = try ZarrStore.create(address, spec: VolumeSpec(shape: Coordinate(8, 64, 64), dataType: .uint16,
                                                                   chunkShape: Coordinate(8, 64, 64), codec: .gzip(level: 1)))
        try store.write(Volume<UInt16>(shape: Coordinate(8, 64, 64), repeating: 1))
        let rounds = 40
        let failures = NSLock()
        nonisolated(unsafe) var problems: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<rounds {
                do {
                    if worker < 2 {
                        try store.write(Volume<UInt16>(shape: Coordinate(8, 64, 64), repeating: UInt16(1 + worker * rounds + round)))
                    } else {
                        let read = try store.readAll(as: UInt16.self)
                        if !read.storage.allSatisfy({ $0 == read.storage[0] }) || read.storage[0] == 0 {
                            failures.lock(); problems.append("mixed chunk in round \(round)"); failures.unlock()
                        }
                    }
                } catch {
                    failures.lock(); problems.append("\(error)"); failures.unlock()
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(temporaryLeftovers(root).isEmpty)
    }

    /// zarr-python fills z-chunks 0 and 1 of an array while emflow fills 2 and 3.
    static let pythonWriter = #"""
import sys
import numpy as np, zarr
array = zarr.open_array(store=sys.argv[1], path="shared", mode="r+")
z, y, x = np.meshgrid(np.arange(20), np.arange(40), np.arange(40), indexing="ij")
values = ((z * 131 + y * 17 + x) % 65521 + 1).astype(np.uint16)
for zc in (0, 1) * 3:
    for yc in range(4):
        for xc in range(4):
            box = np.s_[zc * 5:(zc + 1) * 5, yc * 10:(yc + 1) * 10, xc * 10:(xc + 1) * 10]
            array[box] = values[box]
assert np.array_equal(zarr.open_array(store=sys.argv[1], path="shared", mode="r")[:10], values[:10])
"""#

    @Test(.enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func emflowAndZarrPythonProcessesWritingOneArray() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-processes")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("p.zarr").path
        let store = try ZarrStore.create(StoreAddress(format: .zarr, path: path, key: "shared"),
                                         spec: VolumeSpec(shape: Self.shape, dataType: .uint16, chunkShape: Self.chunks, codec: .zstd(level: 3)))
        var expected = Volume<UInt16>(shape: Self.shape)
        for z in 0..<20 { for y in 0..<40 { for x in 0..<40 { expected[z, y, x] = UInt16((z * 131 + y * 17 + x) % 65521 + 1) } } }
        nonisolated(unsafe) var pythonResult: Result<String, Error>?
        let finished = DispatchSemaphore(value: 0)
        Thread {
            pythonResult = Result { try runPython(Self.pythonWriter, [path]) }
            finished.signal()
        }.start()
        let units = store.chunkGrid.chunks(overlapping: Box(offset: Coordinate(10, 0, 0), shape: Coordinate(10, 40, 40)))
        // Keep rewriting emflow's chunks until the Python process is done, so that both write at once.
        var passes = 0
        repeat {
            try parallelForEach(units.count) { i in try store.write(expected.cropped(to: store.chunkGrid.box(ofChunk: units[i]))) }
            passes += 1
        } while finished.wait(timeout: .now()) == .timedOut
        #expect(passes > 1)
        #expect(throws: Never.self) { try pythonResult!.get() }
        #expect(try store.readAll(as: UInt16.self) == expected)
    }
}
