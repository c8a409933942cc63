import EMVolume

/// Which voxels count as neighbours when grouping foreground voxels into objects.
public enum Connectivity: String, Hashable, Codable, Sendable, CaseIterable {
    /// Voxels sharing a face (6 neighbours).
    case faces
    /// Voxels sharing a face, an edge or a corner (26 neighbours).
    case corners

    /// Number of neighbours: 6 or 26.
    public var neighbourCount: Int { self == .faces ? 6 : 26 }
}

/// Running statistics of one connected component.
struct ComponentStatistics {
    var voxelCount = 0
    var sumZ = 0.0, sumY = 0.0, sumX = 0.0
    var scoreSum = 0.0
    var scoreMax = -Double.infinity
    var lower = Coordinate(Int.max, Int.max, Int.max)
    var upper = Coordinate(Int.min, Int.min, Int.min)

    mutating func add(z: Int, y: Int, x: Int, score: Double) {
        voxelCount += 1
        sumZ += Double(z); sumY += Double(y); sumX += Double(x)
        scoreSum += score
        scoreMax = max(scoreMax, score)
        lower = Coordinate(min(lower.z, z), min(lower.y, y), min(lower.x, x))
        upper = Coordinate(max(upper.z, z), max(upper.y, y), max(upper.x, x))
    }

    mutating func merge(_ other: ComponentStatistics) {
        voxelCount += other.voxelCount
        sumZ += other.sumZ; sumY += other.sumY; sumX += other.sumX
        scoreSum += other.scoreSum
        scoreMax = max(scoreMax, other.scoreMax)
        lower = Coordinate.minimum(lower, other.lower)
        upper = Coordinate.maximum(upper, other.upper)
    }
}

/// Labels the connected components of a foreground volume one z plane at a time, keeping only
/// the previous plane's labels, a union-find forest over provisional labels and per-component
/// statistics: memory grows with one plane and the number of components, not the volume.
///
/// Provisional labels are handed out in raster order and a union keeps the smaller label as the
/// root, so a component's root is the label of its first voxel in z, y, x order.
struct ComponentLabeler {
    let planeShape: (y: Int, x: Int)
    let connectivity: Connectivity
    private(set) var parent: [Int32] = [0] // label 0 is background
    private(set) var statistics: [ComponentStatistics] = [ComponentStatistics()]
    private var previous: [Int32]
    /// Provisional labels of the plane added last (0 = background).
    private(set) var current: [Int32]
    private var planesAdded = 0

    init(planeShape: (y: Int, x: Int), connectivity: Connectivity) {
        self.planeShape = planeShape
        self.connectivity = connectivity
        previous = [Int32](repeating: 0, count: planeShape.y * planeShape.x)
        current = previous
    }

    /// The root of a provisional label (with path halving).
    mutating func find(_ label: Int32) -> Int32 {
        var a = Int(label)
        parent.withUnsafeMutableBufferPointer { p in
            while p[a] != Int32(a) {
                p[a] = p[Int(p[a])]
                a = Int(p[a])
            }
        }
        return Int32(a)
    }

    private mutating func union(_ a: Int32, _ b: Int32) -> Int32 {
        let ra = find(a), rb = find(b)
        if ra == rb { return ra }
        let (root, child) = ra < rb ? (ra, rb) : (rb, ra)
        parent[Int(child)] = root
        statistics[Int(root)].merge(statistics[Int(child)])
        return root
    }

    /// Labels the next plane: `foreground[i]` says whether voxel `i` (y * x-extent + x) belongs
    /// to an object; `scores[i] * scale` is that voxel's score (0 without scores).
    mutating func addPlane<S: ScoreValue>(foreground: UnsafeBufferPointer<Bool>, scores: UnsafeBufferPointer<S>?, scale: Double) {
        let (ny, nx) = planeShape
        precondition(foreground.count == ny * nx, "plane holds \(foreground.count) voxels, expected \(ny * nx)")
        // The previous plane's labels become `previous`; this plane is written into `labels`
        // (moved out of `self` so that the loop writes through a plain buffer).
        swap(&previous, &current)
        var labels: [Int32] = []
        swap(&labels, &current)
        let z = planesAdded
        let hasPrevious = planesAdded > 0
        let corners = connectivity == .corners
        let above = previous
        labels.withUnsafeMutableBufferPointer { current in
            above.withUnsafeBufferPointer { previous in
                for y in 0..<ny {
                    for x in 0..<nx {
                        let i = y * nx + x
                        guard foreground[i] else { current[i] = 0; continue }
                        var label: Int32 = 0
                        func join(_ neighbour: Int32) {
                            if neighbour == 0 || neighbour == label { return }
                            label = label == 0 ? find(neighbour) : union(label, neighbour)
                        }
                        if x > 0 { join(current[i - 1]) }
                        if y > 0 {
                            join(current[i - nx])
                            if corners {
                                if x > 0 { join(current[i - nx - 1]) }
                                if x + 1 < nx { join(current[i - nx + 1]) }
                            }
                        }
                        if hasPrevious {
                            if corners {
                                for dy in max(0, y - 1)...min(ny - 1, y + 1) {
                                    for dx in max(0, x - 1)...min(nx - 1, x + 1) { join(previous[dy * nx + dx]) }
                                }
                            } else {
                                join(previous[i])
                            }
                        }
                        if label == 0 {
                            label = Int32(parent.count)
                            parent.append(label)
                            statistics.append(ComponentStatistics())
                        }
                        statistics[Int(label)].add(z: z, y: y, x: x, score: scores.map { $0[i].doubleValue * scale } ?? 0)
                        current[i] = label
                    }
                }
            }
        }
        swap(&labels, &current)
        planesAdded += 1
    }

    /// Number of planes added.
    var depth: Int { planesAdded }

    /// The roots in increasing order (one per component, ordered by first voxel) and, for every
    /// provisional label, the index of its component in that order (-1 for background).
    mutating func resolve() -> (roots: [Int32], componentOfLabel: [Int32]) {
        var roots: [Int32] = []
        var componentOfLabel = [Int32](repeating: -1, count: parent.count)
        for label in 1..<max(1, parent.count) where parent[label] == Int32(label) {
            componentOfLabel[label] = Int32(roots.count)
            roots.append(Int32(label))
        }
        for label in 1..<max(1, parent.count) {
            componentOfLabel[label] = componentOfLabel[Int(find(Int32(label)))]
        }
        return (roots, componentOfLabel)
    }
}
