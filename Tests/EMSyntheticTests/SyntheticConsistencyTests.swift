import Foundation
import EMSynthetic
import EMVolume
import Testing

/// Every voxel of a synthetic volume must depend on the seed and its position only.
@Suite("Synthetic volumes: determinism and blockwise consistency")
struct SyntheticConsistencyTests {
    let region = Box(offset: Coordinate(-3, -70, 45), shape: Coordinate(11, 150, 170))

    @Test("the same seed gives the same bytes; another seed gives other bytes")
    func determinism() {
        let a = SyntheticEM(seed: 42, shape: Coordinate(32, 512, 512)).generate(in: region)
        let b = SyntheticEM(seed: 42, shape: Coordinate(32, 512, 512)).generate(in: region)
        #expect(a.raw == b.raw)
        #expect(a.labels == b.labels)
        let other = SyntheticEM(seed: 43, shape: Coordinate(32, 512, 512)).raw(in: region)
        let differing = zip(a.raw.storage, other.storage).filter { $0 != $1 }.count
        #expect(differing > region.voxelCount / 2, "only \(differing) of \(region.voxelCount) voxels differ")
    }

    @Test("a volume assembled from odd-sized boxes equals the volume generated at once")
    func blockwise() {
        let em = SyntheticEM(seed: 7, shape: Coordinate(16, 256, 256))
        let whole = em.generate(in: region)
        var raw = Volume<UInt8>(box: region)
        var synapse = Volume<UInt8>(box: region), mitochondria = Volume<UInt8>(box: region)
        var membrane = Volume<UInt8>(box: region), cloud = Volume<UInt8>(box: region)
        // Boxes of 1-5 sections, 7-61 rows and 3-97 columns, none aligned to anything.
        let depths = [1, 5, 2, 3], heights = [7, 61, 23, 59], widths = [3, 97, 41, 29]
        var z = region.offset.z, step = 0
        while z < region.end.z {
            let depth = min(depths[step % 4], region.end.z - z)
            var y = region.offset.y
            while y < region.end.y {
                let height = min(heights[(step + y) & 3], region.end.y - y)
                var x = region.offset.x
                while x < region.end.x {
                    let width = min(widths[(step + x) & 3], region.end.x - x)
                    let part = em.generate(in: Box(offset: Coordinate(z, y, x), shape: Coordinate(depth, height, width)))
                    raw.paste(part.raw)
                    synapse.paste(part.labels.synapse)
                    mitochondria.paste(part.labels.mitochondria)
                    membrane.paste(part.labels.membrane)
                    cloud.paste(part.labels.vesicleCloud)
                    x += width
                }
                y += height
            }
            z += depth
            step += 1
        }
        #expect(raw == whole.raw)
        #expect(synapse == whole.labels.synapse)
        #expect(mitochondria == whole.labels.mitochondria)
        #expect(membrane == whole.labels.membrane)
        #expect(cloud == whole.labels.vesicleCloud)
    }

    @Test("raw(in:) and labels(in:) equal the two halves of generate(in:)")
    func separateCalls() {
        let em = SyntheticEM(seed: 11, shape: Coordinate(8, 128, 128), voxelSize: VoxelSize(50, 4.6, 4.6))
        let box = Box(offset: Coordinate(2, 10, 20), shape: Coordinate(4, 90, 100))
        let both = em.generate(in: box)
        #expect(em.raw(in: box) == both.raw)
        #expect(em.labels(in: box) == both.labels)
        #expect(both.raw.box == box && both.labels.synapse.box == box)
    }

    @Test("boxes generated on several threads at once equal boxes generated one by one")
    func concurrent() {
        let em = SyntheticEM(seed: 99, shape: Coordinate(8, 256, 256))
        let boxes = (0..<8).map { i in Box(offset: Coordinate(i % 3, 31 * i, 17 * i), shape: Coordinate(3, 70, 90)) }
        let serial = boxes.map { em.generate(in: $0) }
        nonisolated(unsafe) var parallel = [Volume<UInt8>?](repeating: nil, count: boxes.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: boxes.count) { i in
            let raw = em.raw(in: boxes[i])
            lock.lock()
            parallel[i] = raw
            lock.unlock()
        }
        for i in boxes.indices { #expect(parallel[i] == serial[i].raw, "box \(boxes[i])") }
    }

    @Test("an empty box gives empty volumes")
    func emptyBox() {
        let em = SyntheticEM(seed: 1, shape: Coordinate(4, 64, 64))
        let result = em.generate(in: Box(offset: Coordinate(1, 2, 3), shape: Coordinate(0, 10, 10)))
        #expect(result.raw.storage.isEmpty)
        #expect(result.labels.membrane.storage.isEmpty)
        #expect(em.bounds == Box(shape: Coordinate(4, 64, 64)))
    }
}
