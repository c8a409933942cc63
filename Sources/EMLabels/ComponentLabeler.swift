import EMVolume

/// Which voxels count as neighbours when grouping foreground voxels into objects.
public enum Connectivity: String, Hashable, Codable, Sendable, CaseIterable {
    /// Voxels sharing a face (6 neighbours).
    case faces
    /// Voxels sharing a face or an edge (18 neighbours).
    case edges
    /// Voxels sharing a face, an edge or a corner (26 neighbours).
    case corners

    /// Number of neighbours: 6, 18 or 26.
    public var neighbourCount: Int {
        switch self {
        case .faces: return 6
        case .edges: return 18
        case .corners: return 26
        }
    }

    /// The connectivity with `count` (6, 18 or 26) neighbours.
    public init?(neighbourCount count: Int) {
        guard let match = Self.allCases.first(where: { $0.neighbourCount == count }) else { return nil }
        self = match
    }

    /// Every neighbour offset.
    public var offsets: [Coordinate] {
        var result: [Coordinate] = []
        for dz in -1...1 {
            for dy in -1...1 {
                for dx in -1...1 {
                    let nonzero = [dz, dy, dx].filter { $0 != 0 }.count
                    if nonzero > 0 && nonzero <= order { result.append(Coordinate(dz, dy, dx)) }
                }
            }
        }
        return result
    }

    /// The neighbours visited before a voxel in a z, y, x raster scan.
    public var backwardOffsets: [Coordinate] {
        offsets.filter { $0.z < 0 || ($0.z == 0 && ($0.y < 0 || ($0.y == 0 && $0.x < 0))) }
    }

    /// How many coordinates a neighbour offset may change.
    private var order: Int {
        switch self {
        case .faces: return 1
        case .edges: return 2
        case .corners: return 3
        }
    }
}

/// A union-find forest over dense integer ids, with path halving; a union keeps the smaller
/// root, so the root of a set is its smallest id. Hot loops work on the parents directly
/// (`withParents` with the static `find` and `union`).
public struct UnionFind: Sendable {
    /// The parent of every id (a root is its own parent).
    public private(set) var parent: [Int]

    /// Creates `count` singleton sets.
    public init(count: Int) {
        parent = Array(0..<count)
    }

    /// Number of ids.
    public var count: Int { parent.count }

    /// Adds `extra` singleton sets (ids `count..<count + extra`).
    public mutating func grow(by extra: Int) {
        parent.append(contentsOf: parent.count..<parent.count + extra)
    }

    /// The representative (smallest id) of `x`'s set.
    public mutating func find(_ x: Int) -> Int {
        parent.withUnsafeMutableBufferPointer { Self.find(x, in: $0) }
    }

    /// Joins the sets of `a` and `b` and returns the new representative.
    @discardableResult
    public mutating func union(_ a: Int, _ b: Int) -> Int {
        parent.withUnsafeMutableBufferPointer { Self.union(a, b, in: $0) }
    }

    /// Runs `body` on the parents (which it may change with `find` and `union` only).
    public mutating func withParents<R>(_ body: (UnsafeMutableBufferPointer<Int>) throws -> R) rethrows -> R {
        try parent.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The representative of `x` in the forest `parent`.
    @inline(__always)
    public static func find(_ x: Int, in parent: UnsafeMutableBufferPointer<Int>) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    /// Joins the sets of `a` and `b` in the forest `parent`; returns the new representative.
    @inline(__always)
    @discardableResult
    public static func union(_ a: Int, _ b: Int, in parent: UnsafeMutableBufferPointer<Int>) -> Int {
        let ra = find(a, in: parent), rb = find(b, in: parent)
        if ra == rb { return ra }
        let (low, high) = ra < rb ? (ra, rb) : (rb, ra)
        parent[high] = low
        return low
    }
}

/// Running statistics of one connected component: size, first voxel, bounding box, sums of
/// voxel positions and of scores. Positions are in the coordinates of the labelled volume
/// (`translated(by:)` moves them).
public struct ComponentStatistics: Hashable, Sendable {
    /// Voxels in the component.
    public var voxelCount = 0
    /// The component's first voxel in z, y, x raster order.
    public var first = Coordinate.zero
    /// Sums of the voxels' z, y and x positions (exact while below 2^53).
    public var sumZ = 0.0, sumY = 0.0, sumX = 0.0
    /// Sum of the voxels' scores.
    public var scoreSum = 0.0
    /// Largest voxel score.
    public var scoreMax = -Double.infinity
    /// Smallest z, y, x of any voxel.
    public var lower = Coordinate(Int.max, Int.max, Int.max)
    /// Largest z, y, x of any voxel.
    public var upper = Coordinate(Int.min, Int.min, Int.min)

    /// Empty statistics.
    public init() {}

    /// Adds a voxel (voxels of one component must come in raster order for `first`).
    @inline(__always)
    mutating func add(z: Int, y: Int, x: Int, score: Double) {
        if voxelCount == 0 { first = Coordinate(z, y, x) }
        voxelCount += 1
        sumZ += Double(z); sumY += Double(y); sumX += Double(x)
        scoreSum += score
        scoreMax = max(scoreMax, score)
        lower = Coordinate(min(lower.z, z), min(lower.y, y), min(lower.x, x))
        upper = Coordinate(max(upper.z, z), max(upper.y, y), max(upper.x, x))
    }

    /// Adds the voxels of `other`, a component joined to this one (positions in the same
    /// coordinates); `first` becomes the earlier of the two first voxels.
    public mutating func merge(_ other: ComponentStatistics) {
        guard other.voxelCount > 0 else { return }
        if voxelCount == 0 || (other.first.z, other.first.y, other.first.x) < (first.z, first.y, first.x) { first = other.first }
        voxelCount += other.voxelCount
        sumZ += other.sumZ; sumY += other.sumY; sumX += other.sumX
        scoreSum += other.scoreSum
        scoreMax = max(scoreMax, other.scoreMax)
        lower = Coordinate.minimum(lower, other.lower)
        upper = Coordinate.maximum(upper, other.upper)
    }

    /// The same statistics with every position moved by `offset`.
    public func translated(by offset: Coordinate) -> ComponentStatistics {
        var moved = self
        let n = Double(voxelCount)
        moved.first = first + offset
        moved.sumZ += n * Double(offset.z); moved.sumY += n * Double(offset.y); moved.sumX += n * Double(offset.x)
        moved.lower = lower + offset
        moved.upper = upper + offset
        return moved
    }

    /// Mean voxel position (z, y, x), in the statistics' coordinates.
    public var centroid: (z: Double, y: Double, x: Double) {
        let n = Double(voxelCount)
        return (sumZ / n, sumY / n, sumX / n)
    }
}

/// Labels the connected components of a foreground volume one z plane at a time, keeping only
/// the previous plane's labels, a union-find forest over provisional labels and per-component
/// statistics: memory grows with one plane and the number of components, not the volume.
///
/// Provisional labels are handed out in raster order and a union keeps the smaller label as the
/// root, so a component's root is the label of its first voxel in z, y, x order.
public struct ComponentLabeler: Sendable {
    /// Extent (y, x) of a plane.
    public let planeShape: (y: Int, x: Int)
    /// Which voxels touch.
    public let connectivity: Connectivity
    /// Provisional labels 1...labelCount (0 is background); the forest and `statistics` are
    /// kept one plane's worth of labels longer, so that a plane is labelled without growing them.
    private var forest = UnionFind(count: 1)
    private var labelCount = 0
    /// Statistics of every provisional label; those of a root cover its whole component.
    public private(set) var statistics: [ComponentStatistics] = [ComponentStatistics()]
    private var previous: [Int32]
    /// Provisional labels of the plane added last (0 = background).
    public private(set) var current: [Int32]
    private var planesAdded = 0

    /// Creates a labeler for planes of `planeShape` voxels.
    public init(planeShape: (y: Int, x: Int), connectivity: Connectivity) {
        self.planeShape = planeShape
        self.connectivity = connectivity
        previous = [Int32](repeating: 0, count: planeShape.y * planeShape.x)
        current = previous
    }

    /// Labels the next plane: `foreground[i]` says whether voxel `i` (y * x-extent + x) belongs
    /// to an object; `scores[i] * scale` is that voxel's score (0 without scores).
    public mutating func addPlane<S: VoxelScalar>(foreground: UnsafeBufferPointer<Bool>, scores: UnsafeBufferPointer<S>?, scale: Double) {
        let (ny, nx) = planeShape
        precondition(foreground.count == ny * nx, "plane holds \(foreground.count) voxels, expected \(ny * nx)")
        precondition(labelCount + ny * nx < Int(Int32.max), "more than 2^31 - 1 provisional labels")
        // Room for every label this plane may hand out.
        let needed = labelCount + ny * nx + 1
        if forest.count < needed {
            forest.grow(by: needed - forest.count)
            statistics.append(contentsOf: repeatElement(ComponentStatistics(), count: needed - statistics.count))
        }
        // The previous plane's labels become `previous`; this plane is written into `labels`
        // (moved out of `self` so that the loop writes through a plain buffer).
        swap(&previous, &current)
        var labels: [Int32] = []
        swap(&labels, &current)
        let z = planesAdded
        let hasPrevious = planesAdded > 0
        let inPlaneDiagonals = connectivity != .faces
        let connectivity = self.connectivity
        var next = labelCount
        let above = previous
        forest.withParents { parent in
            statistics.withUnsafeMutableBufferPointer { statistics in
                labels.withUnsafeMutableBufferPointer { current in
                    above.withUnsafeBufferPointer { previous in
                        for y in 0..<ny {
                            for x in 0..<nx {
                                let i = y * nx + x
                                guard foreground[i] else { current[i] = 0; continue }
                                var label = 0
                                @inline(__always) func join(_ neighbour: Int32) {
                                    if neighbour == 0 || Int(neighbour) == label { return }
                                    let root = UnionFind.find(Int(neighbour), in: parent)
                                    if label == 0 {
                                        label = root
                                    } else if root != label {
                                        let (low, high) = root < label ? (root, label) : (label, root)
                                        parent[high] = low
                                        statistics[low].merge(statistics[high])
                                        label = low
                                    }
                                }
                                if x > 0 { join(current[i - 1]) }
                                if y > 0 {
                                    join(current[i - nx])
                                    if inPlaneDiagonals {
                                        if x > 0 { join(current[i - nx - 1]) }
                                        if x + 1 < nx { join(current[i - nx + 1]) }
                                    }
                                }
                                if hasPrevious {
                                    switch connectivity {
                                    case .faces:
                                        join(previous[i])
                                    case .edges:
                                        join(previous[i])
                                        if x > 0 { join(previous[i - 1]) }
                                        if x + 1 < nx { join(previous[i + 1]) }
                                        if y > 0 { join(previous[i - nx]) }
                                        if y + 1 < ny { join(previous[i + nx]) }
                                    case .corners:
                                        for dy in max(0, y - 1)...min(ny - 1, y + 1) {
                                            for dx in max(0, x - 1)...min(nx - 1, x + 1) { join(previous[dy * nx + dx]) }
                                        }
                                    }
                                }
                                if label == 0 {
                                    next += 1
                                    label = next
                                }
                                var score = 0.0
                                if let scores { score = scores[i].doubleValue * scale }
                                statistics[label].add(z: z, y: y, x: x, score: score)
                                current[i] = Int32(label)
                            }
                        }
                    }
                }
            }
        }
        labelCount = next
        swap(&labels, &current)
        planesAdded += 1
    }

    /// The roots in increasing order (one per component, ordered by first voxel) and, for every
    /// provisional label, the index of its component in that order (-1 for background).
    public mutating func resolve() -> (roots: [Int32], componentOfLabel: [Int32]) {
        var roots: [Int32] = []
        var componentOfLabel = [Int32](repeating: -1, count: labelCount + 1)
        for label in stride(from: 1, through: labelCount, by: 1) where forest.parent[label] == label {
            componentOfLabel[label] = Int32(roots.count)
            roots.append(Int32(label))
        }
        for label in stride(from: 1, through: labelCount, by: 1) {
            componentOfLabel[label] = componentOfLabel[forest.find(label)]
        }
        return (roots, componentOfLabel)
    }
}
