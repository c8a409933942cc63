import EMSynthetic
import EMVolume
import Foundation
import Testing
import TestSupport

/// A sample shared by the tests of this file (generated once).
private let sample = SyntheticEM(seed: 2024, shape: Coordinate(16, 384, 384)).generate(in: Box(shape: Coordinate(16, 384, 384)))

private func fraction(_ mask: Volume<UInt8>) -> Double {
    Double(mask.storage.reduce(0) { $0 + Int($1) }) / Double(mask.storage.count)
}

private func mean(_ values: [UInt8], where mask: [UInt8]? = nil) -> Double {
    var sum = 0.0, count = 0.0
    for i in values.indices where mask?[i] ?? 1 != 0 {
        sum += Double(values[i])
        count += 1
    }
    return sum / count
}

private func standardDeviation(_ values: [UInt8]) -> Double {
    let m = mean(values)
    return (values.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(values.count)).squareRoot()
}

/// Pearson correlation of two sections of a volume.
private func correlation(_ volume: Volume<UInt8>, _ a: Int, _ b: Int) -> Double {
    let plane = volume.shape.y * volume.shape.x
    let x = volume.storage[(a * plane)..<((a + 1) * plane)].map(Double.init)
    let y = volume.storage[(b * plane)..<((b + 1) * plane)].map(Double.init)
    let mx = x.reduce(0, +) / Double(plane), my = y.reduce(0, +) / Double(plane)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in 0..<plane {
        sxy += (x[i] - mx) * (y[i] - my)
        sxx += (x[i] - mx) * (x[i] - mx)
        syy += (y[i] - my) * (y[i] - my)
    }
    return sxy / (sxx * syy).squareRoot()
}

/// Connected components (6-neighbourhood) of a mask, as lists of linear indices.
private func components(_ mask: Volume<UInt8>) -> [[Int]] {
    let (depth, height, width) = (mask.shape.z, mask.shape.y, mask.shape.x)
    var seen = [Bool](repeating: false, count: mask.storage.count)
    var result = [[Int]]()
    for start in mask.storage.indices where mask.storage[start] != 0 && !seen[start] {
        var component = [start], next = 0
        seen[start] = true
        while next < component.count {
            let i = component[next]
            next += 1
            let x = i % width, y = (i / width) % height, z = i / (width * height)
            for (dz, dy, dx) in [(-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)] {
                let (nz, ny, nx) = (z + dz, y + dy, x + dx)
                guard nz >= 0, nz < depth, ny >= 0, ny < height, nx >= 0, nx < width else { continue }
                let j = (nz * height + ny) * width + nx
                if mask.storage[j] != 0 && !seen[j] {
                    seen[j] = true
                    component.append(j)
                }
            }
        }
        result.append(component)
    }
    return result
}

@Suite("Synthetic volumes: resemblance to ssTEM of neural tissue")
struct SyntheticRealismTests {
    @Test("label fractions are in realistic ranges (synapses are rare)")
    func labelFractions() {
        let synapse = fraction(sample.labels.synapse), mitochondria = fraction(sample.labels.mitochondria)
        let membrane = fraction(sample.labels.membrane), cloud = fraction(sample.labels.vesicleCloud)
        // The VNC stack has 0.4 % synapse, 4.3 % mitochondria, 17 % membrane voxels.
        #expect((0.001...0.015).contains(synapse), "synapse fraction \(synapse)")
        #expect((0.015...0.09).contains(mitochondria), "mitochondria fraction \(mitochondria)")
        #expect((0.10...0.30).contains(membrane), "membrane fraction \(membrane)")
        #expect((synapse...0.12).contains(cloud), "vesicle cloud fraction \(cloud)")
    }

    @Test("intensities: mean 110-150, standard deviation 42-66, dark membranes, darker organelles")
    func intensityStatistics() {
        let raw = sample.raw.storage
        let m = mean(raw), s = standardDeviation(raw)
        #expect((110...150).contains(m), "mean \(m)")
        #expect((42...66).contains(s), "standard deviation \(s)")
        let dark = Double(raw.filter { $0 < 50 }.count) / Double(raw.count)
        #expect((0.04...0.2).contains(dark), "fraction below 50: \(dark)")
        #expect(mean(raw, where: sample.labels.membrane.storage) < m - 40)
        #expect(mean(raw, where: sample.labels.mitochondria.storage) < m - 20)
    }

    @Test("synapses are dark and each touches a vesicle cloud")
    func synapsesBesideVesicleClouds() {
        let raw = sample.raw.storage, synapse = sample.labels.synapse, cloud = sample.labels.vesicleCloud
        let synapseMean = mean(raw, where: synapse.storage), overall = mean(raw)
        #expect(synapseMean < overall - 50, "synapse mean \(synapseMean), overall \(overall)")
        let (depth, height, width) = (synapse.shape.z, synapse.shape.y, synapse.shape.x)
        func cloudNear(_ i: Int) -> Bool {
            let x = i % width, y = (i / width) % height, z = i / (width * height)
            for nz in max(0, z - 1)...min(depth - 1, z + 1) {
                for ny in max(0, y - 3)...min(height - 1, y + 3) {
                    for nx in max(0, x - 3)...min(width - 1, x + 3) where cloud.storage[(nz * height + ny) * width + nx] != 0 {
                        return true
                    }
                }
            }
            return false
        }
        let parts = components(synapse)
        #expect(parts.count >= 3, "\(parts.count) synapses")
        for part in parts {
            #expect(part.contains(where: cloudNear), "a synapse of \(part.count) voxels has no vesicle cloud within 3 voxels")
        }
    }

    @Test("neighbouring sections are similar but not identical; distant sections differ more")
    func sectionSimilarity() {
        let adjacent = correlation(sample.raw, 7, 8), distant = correlation(sample.raw, 0, 12)
        #expect((0.2...0.85).contains(adjacent), "adjacent sections correlate \(adjacent)")
        #expect(distant < adjacent - 0.1, "sections 12 apart correlate \(distant), adjacent \(adjacent)")
    }

    @Test("histogram, mean and spread are close to the real VNC stack's",
          .enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)),
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func closeToRealData() throws {
        let file = TestEnvironment.sharedData!.appendingPathComponent("vnc-synapse/train.h5").path
        let printed = try runPython("""
            import sys, h5py, numpy as np
            raw = h5py.File(sys.argv[1], 'r')['volumes/raw'][:]
            histogram = np.histogram(raw, bins=16, range=(0, 256))[0] / raw.size
            print(raw.mean(), raw.std(), *histogram)
            """, [file])
        let real = printed.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(real.count == 18)
        let em = SyntheticEM(seed: 5, shape: Coordinate(20, 512, 512), voxelSize: VoxelSize(50, 4.6, 4.6))
        let raw = em.raw(in: Box(shape: Coordinate(8, 512, 512))).storage
        var histogram = [Double](repeating: 0, count: 16)
        for value in raw { histogram[Int(value) / 16] += 1 / Double(raw.count) }
        let distance = zip(histogram, real[2...]).reduce(0) { $0 + abs($1.0 - $1.1) }
        #expect(abs(mean(raw) - real[0]) < 12, "synthetic mean \(mean(raw)), real \(real[0])")
        #expect(abs(standardDeviation(raw) - real[1]) < 10, "synthetic deviation \(standardDeviation(raw)), real \(real[1])")
        #expect(distance < 0.3, "histogram L1 distance \(distance)")
    }
}
