import EMVolume

/// A small seeded generator (SplitMix64) so that random test volumes are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random 0/1 mask of `shape` with `density` foreground, smoothed a little so that
/// components span several voxels.
func randomMask(_ shape: Coordinate, density: Double, seed: UInt64) -> Volume<UInt8> {
    var generator = SeededGenerator(seed: seed)
    var mask = Volume<UInt8>(shape: shape)
    for i in 0..<mask.storage.count { mask.storage[i] = Double.random(in: 0..<1, using: &generator) < density ? 1 : 0 }
    return mask
}

/// Whole-volume connected components by breadth-first search, labels numbered in order of
/// each component's first voxel in a z, y, x scan: an independent reference for the blockwise
/// labelling.
func referenceComponents(_ mask: Volume<UInt8>, connectivity: Int) -> Volume<UInt64> {
    let limit = connectivity == 6 ? 1 : connectivity == 18 ? 2 : 3
    var neighbours: [(Int, Int, Int)] = []
    for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
        let nonzero = (dz != 0 ? 1 : 0) + (dy != 0 ? 1 : 0) + (dx != 0 ? 1 : 0)
        if nonzero >= 1 && nonzero <= limit { neighbours.append((dz, dy, dx)) }
    } } }
    let s = mask.shape
    var labels = Volume<UInt64>(box: mask.box)
    var next: UInt64 = 0
    for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x where mask[z, y, x] != 0 && labels[z, y, x] == 0 {
        next += 1
        labels[z, y, x] = next
        var queue = [(z, y, x)]
        var head = 0
        while head < queue.count {
            let (cz, cy, cx) = queue[head]
            head += 1
            for (dz, dy, dx) in neighbours {
                let (nz, ny, nx) = (cz + dz, cy + dy, cx + dx)
                guard nz >= 0, ny >= 0, nx >= 0, nz < s.z, ny < s.y, nx < s.x else { continue }
                if mask[nz, ny, nx] != 0 && labels[nz, ny, nx] == 0 {
                    labels[nz, ny, nx] = next
                    queue.append((nz, ny, nx))
                }
            }
        }
    } } }
    return labels
}
