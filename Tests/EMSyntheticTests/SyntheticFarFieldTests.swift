@testable import EMSynthetic
import EMVolume
import Testing

/// Boxes anywhere in huge volumes: the seed search must find the true nearest seeds (also
/// the members of bundles that lie outside their own lattice cell), and boxes far from the
/// origin must tile consistently.
@Suite("Synthetic volumes: far from the origin")
struct SyntheticFarFieldTests {
    /// The two nearest seeds of a metric point by brute force over the 7 x 7 x 7 lattice cells
    /// around it. Seeds of cells further out lie more than 2.5 cells away (weighted distance
    /// above 1.5 cells), far beyond the second-nearest seed of any point in practice (about
    /// half a cell).
    private func bruteForceNearestTwo(_ field: CellField, _ p: SIMD3<Double>) -> (UInt64, UInt64) {
        let cell = SIMD3<Int>((p / field.spacing).rounded(.down))
        var best: [(Double, UInt64)] = []
        var seeds = [CellField.Seed]()
        for k in (cell.z - 3)...(cell.z + 3) {
            for j in (cell.y - 3)...(cell.y + 3) {
                for i in (cell.x - 3)...(cell.x + 3) {
                    seeds.removeAll(keepingCapacity: true)
                    field.seeds(k, j, i, into: &seeds)
                    for s in seeds { best.append((field.weightedDistance(s, p), s.key)) }
                }
            }
        }
        best.sort { $0.0 < $1.0 }
        return (best[0].1, best[1].1)
    }

    @Test("nearestTwo agrees with a brute-force search, near and far from the origin",
          arguments: [0.0, 262_144.0, 3.3e7])
    func nearestSeeds(origin: Double) {
        let field = SyntheticEM(seed: 1, shape: Coordinate(4, 65536, 65536)).cells
        var random = RandomStream(latticeKey(77, .texture, Int(origin), 0, 0))
        var scratch = [CellField.Seed]()
        var mismatches = 0
        // Points near the seeds of bundles (which may lie outside their lattice cells) in a
        // region whose corner is at `origin`.
        var points = [SIMD3<Double>](), seeds = [CellField.Seed]()
        let first = Int(origin / field.spacing)
        for j in first..<(first + 30) {
            for i in first..<(first + 30) {
                seeds.removeAll(keepingCapacity: true)
                field.seeds(1, j, i, into: &seeds)
                guard seeds.count > 1 else { continue }
                for s in seeds { points.append(SIMD3(s.x, s.y, s.z) + random.direction() * random.uniform(0, 80)) }
            }
        }
        for p in points {
            let cache = SeedCache(field: field, low: p, high: p, margin: 1)
            let pair = field.nearestTwo(p, cache: cache, scratch: &scratch)
            let expected = bruteForceNearestTwo(field, p)
            if pair.first.key != expected.0 || pair.second.key != expected.1 { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(points.count) points got other nearest seeds than brute force")
    }

    @Test("small boxes far from the origin of a huge volume equal the same boxes assembled from pieces")
    func farBoxes() {
        let em = SyntheticEM(seed: 1, shape: Coordinate(4, 65536, 65536))
        let corners = [Coordinate(1, 8190, 8150), Coordinate(2, 30011, 47104), Coordinate(0, 65472, 65472),
                       Coordinate(2, 65500, 17)]
        for corner in corners {
            let box = Box(offset: corner, shape: Coordinate(2, 64, 64))
            let whole = em.generate(in: box)
            #expect(whole.raw.storage.contains { $0 != 0 }, "box at \(corner) is blank")
            var raw = Volume<UInt8>(box: box), membrane = Volume<UInt8>(box: box)
            var synapse = Volume<UInt8>(box: box), mitochondria = Volume<UInt8>(box: box)
            // Four pieces: the first section split at row 23, the second at column 37.
            let pieces = [(Coordinate(0, 0, 0), Coordinate(1, 23, 64)), (Coordinate(0, 23, 0), Coordinate(1, 64, 64)),
                          (Coordinate(1, 0, 0), Coordinate(2, 64, 37)), (Coordinate(1, 0, 37), Coordinate(2, 64, 64))]
            for (begin, end) in pieces {
                let part = em.generate(in: Box(begin: corner + begin, end: corner + end))
                raw.paste(part.raw)
                membrane.paste(part.labels.membrane)
                synapse.paste(part.labels.synapse)
                mitochondria.paste(part.labels.mitochondria)
            }
            #expect(raw == whole.raw, "raw at \(corner)")
            #expect(membrane == whole.labels.membrane, "membrane at \(corner)")
            #expect(synapse == whole.labels.synapse, "synapse at \(corner)")
            #expect(mitochondria == whole.labels.mitochondria, "mitochondria at \(corner)")
        }
    }
}
