import EMVolume

/// Which voxels touch: sharing a face (6 neighbours), a face or an edge (18), or any
/// corner (26).
public enum Connectivity: Int, CaseIterable, Sendable {
    case faces = 6
    case edges = 18
    case corners = 26

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
    var backwardOffsets: [Coordinate] {
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

/// A union-find forest over dense integer ids, with path halving and union by smaller root.
struct UnionFind {
    private(set) var parent: [Int]

    init(count: Int) {
        parent = Array(0..<count)
    }

    /// Adds one singleton set and returns its id.
    mutating func add() -> Int {
        parent.append(parent.count)
        return parent.count - 1
    }

    /// The representative of `x`'s set.
    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    /// Joins the sets of `a` and `b` and returns the new representative.
    @discardableResult
    mutating func union(_ a: Int, _ b: Int) -> Int {
        let ra = find(a), rb = find(b)
        if ra == rb { return ra }
        let (low, high) = ra < rb ? (ra, rb) : (rb, ra)
        parent[high] = low
        return low
    }
}

/// Connected components of one block: labels 1...count in order of first appearance in a
/// z, y, x raster scan, and, for each label, the raster index (in the whole region) of its
/// first voxel.
public struct BlockLabels: Sendable {
    /// Local labels (0 = background) over the block's box.
    public var labels: Volume<UInt32>
    /// Number of components.
    public var count: Int
    /// For label `i` (1-based), `firstIndex[i - 1]` is the region raster index of its first voxel.
    public var firstIndex: [UInt64]

    /// Labels the nonzero voxels of `mask`, which lies inside a region of shape `regionShape`
    /// starting at the origin.
    public init<T: VoxelScalar>(mask: Volume<T>, connectivity: Connectivity, regionShape: Coordinate) {
        let box = mask.box
        let shape = box.shape
        var labels = Volume<UInt32>(box: box)
        var forest = UnionFind(count: 1)
        let neighbours = connectivity.backwardOffsets
        let planeStride = shape.y * shape.x
        mask.storage.withUnsafeBufferPointer { source in
            labels.storage.withUnsafeMutableBufferPointer { target in
                var index = 0
                for z in 0..<shape.z {
                    for y in 0..<shape.y {
                        for x in 0..<shape.x {
                            defer { index += 1 }
                            guard source[index] != .zero else { continue }
                            var current = 0
                            for offset in neighbours {
                                let nz = z + offset.z, ny = y + offset.y, nx = x + offset.x
                                guard nz >= 0, ny >= 0, ny < shape.y, nx >= 0, nx < shape.x else { continue }
                                let neighbour = Int(target[index + offset.z * planeStride + offset.y * shape.x + offset.x])
                                guard neighbour != 0 else { continue }
                                current = current == 0 ? forest.find(neighbour) : forest.union(current, neighbour)
                            }
                            if current == 0 { current = forest.add() }
                            target[index] = UInt32(current)
                        }
                    }
                }
            }
        }
        // Second pass: final labels in order of first appearance.
        var final = [UInt32](repeating: 0, count: forest.parent.count)
        var firstIndex: [UInt64] = []
        let origin = box.offset
        labels.storage.withUnsafeMutableBufferPointer { target in
            var index = 0
            for z in 0..<shape.z {
                for y in 0..<shape.y {
                    for x in 0..<shape.x {
                        defer { index += 1 }
                        let provisional = Int(target[index])
                        guard provisional != 0 else { continue }
                        let root = forest.find(provisional)
                        if final[root] == 0 {
                            firstIndex.append(UInt64(((origin.z + z) * regionShape.y + origin.y + y) * regionShape.x + origin.x + x))
                            final[root] = UInt32(firstIndex.count)
                        }
                        target[index] = final[root]
                    }
                }
            }
        }
        self.labels = labels
        self.count = firstIndex.count
        self.firstIndex = firstIndex
    }
}
