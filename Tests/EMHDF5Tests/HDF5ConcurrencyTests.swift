import EMHDF5
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

@Suite("HDF5 concurrency")
struct HDF5ConcurrencyTests {
    static let spec = VolumeSpec(shape: Coordinate(8, 64, 64), dataType: .uint16, chunkShape: Coordinate(2, 16, 16), codec: .gzip(level: 2))

    @Test("threads writing distinct chunks and reading at the same time leave exactly the reference")
    func threads() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-threads")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try HDF5Store.create(hdf5Address(directory), spec: Self.spec)
        let reference = patternVolume(store.metadata.bounds, seed: 3, as: UInt16.self)
        let chunks = store.chunkGrid.chunks(overlapping: store.metadata.bounds)
        let failures = ErrorLog()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            do {
                for (i, chunk) in chunks.enumerated() where i % 8 == thread {
                    try store.write(reference.cropped(to: store.chunkGrid.box(ofChunk: chunk)))
                    // A read crossing chunks other threads are writing must never fail.
                    _ = try store.read(Box(offset: Coordinate(thread, 10, 10), shape: Coordinate(1, 30, 30)), as: UInt16.self)
                }
            } catch {
                failures.add(error)
            }
        }
        #expect(failures.errors.isEmpty, "\(failures.errors)")
        #expect(try HDF5Store.open(store.address).readAll(as: UInt16.self) == reference)
    }

    @Test("another process writing other chunks of the same file under the same lock: all chunks land",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func twoProcesses() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-processes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try HDF5Store.create(hdf5Address(directory), spec: Self.spec)
        let reference = patternVolume(store.metadata.bounds, seed: 4, as: UInt16.self)
        let referenceFile = directory.appendingPathComponent("reference.bin")
        try rawBytes(reference).write(to: referenceFile)
        let ready = directory.appendingPathComponent("ready").path

        // The child follows emflow's protocol: flock(LOCK_EX) on the file around
        // open-write-close, with HDF5's own locking off, writing the odd chunks.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: TestEnvironment.python!)
        child.arguments = ["-c", """
            import sys, os, fcntl, h5py, numpy as np
            path, ref, ready = sys.argv[1:4]
            a = np.fromfile(ref, dtype='<u2').reshape(8, 64, 64)
            open(ready, 'w').close()
            i = 0
            for z in range(0, 8, 2):
                for y in range(0, 64, 16):
                    for x in range(0, 64, 16):
                        if i % 2 == 1:
                            fd = os.open(path, os.O_RDWR)
                            fcntl.flock(fd, fcntl.LOCK_EX)
                            with h5py.File(path, 'r+', locking=False) as f:
                                f['volumes/raw'][z:z+2, y:y+16, x:x+16] = a[z:z+2, y:y+16, x:x+16]
                            os.close(fd)
                        i += 1
            """, store.address.path, referenceFile.path, ready]
        try child.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ready) && Date() < deadline { usleep(5_000) }

        let chunks = store.chunkGrid.chunks(overlapping: store.metadata.bounds)
        let failures = ErrorLog()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                for (i, chunk) in chunks.enumerated() where i % 2 == 0 && (i / 2) % 2 == thread {
                    try store.write(reference.cropped(to: store.chunkGrid.box(ofChunk: chunk)))
                }
            } catch {
                failures.add(error)
            }
        }
        child.waitUntilExit()
        #expect(child.terminationStatus == 0)
        #expect(failures.errors.isEmpty, "\(failures.errors)")
        #expect(try store.readAll(as: UInt16.self) == reference)
        let check = try runPython("""
            import sys, h5py, numpy as np
            a = np.fromfile(sys.argv[2], dtype='<u2').reshape(8, 64, 64)
            with h5py.File(sys.argv[1], 'r') as f:
                print(np.array_equal(f['volumes/raw'][...], a))
            """, [store.address.path, referenceFile.path])
        #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "True")
    }
}

/// Errors collected from several threads.
final class ErrorLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Error] = []

    func add(_ error: Error) { lock.lock(); collected.append(error); lock.unlock() }
    var errors: [Error] { lock.lock(); defer { lock.unlock() }; return collected }
}
