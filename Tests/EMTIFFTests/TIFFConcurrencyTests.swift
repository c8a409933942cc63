import EMStorage
import EMTIFF
import EMVolume
import Foundation
import Testing

@Suite("TIFF concurrency")
struct TIFFConcurrencyTests {
    static let shape = Coordinate(16, 33, 29)

    /// Threads write distinct sections (and read back what they wrote) at the same time;
    /// the reopened volume equals the source.
    @Test(arguments: ["slices/*.tif", "stack.tif"])
    func threadsWriteDistinctSections(pattern: String) throws {
        let scratch = try Scratch("tiff-threads")
        let address = StoreAddress(format: .tiff, path: scratch.path(pattern))
        let source = TIFFTestData.random(UInt16.self, shape: Self.shape, seed: 11)
        let store = try TIFFStore.create(address, spec: VolumeSpec(shape: Self.shape, dataType: .uint16, chunkShape: Self.shape,
                                                                   codec: .gzip(level: 1)))
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: Self.shape.z) { z in
            do {
                let section = Box(offset: Coordinate(z, 0, 0), shape: Coordinate(1, Self.shape.y, Self.shape.x))
                try store.write(source.cropped(to: section))
                let back = try store.read(section, as: UInt16.self)
                if back != source.cropped(to: section) { failures.add("section \(z) reads back differently") }
            } catch {
                failures.add("section \(z): \(error)")
            }
        }
        #expect(failures.messages.isEmpty, "\(failures.messages)")
        try store.flush()
        #expect(try TIFFStore.open(address).readAll(as: UInt16.self) == source)
        // No temporary or staging files are left behind.
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: scratch.url.path).filter { $0.contains(".emflow") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

/// Messages collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    func add(_ message: String) { lock.withLock { list.append(message) } }
    var messages: [String] { lock.withLock { list } }
}
