/// A position in world space, in nanometres, axes z, y, x.
public struct WorldPoint: Hashable, Codable, Sendable, CustomStringConvertible {
    public var z: Double
    public var y: Double
    public var x: Double

    /// Creates a world position from its components in nanometres.
    public init(_ z: Double, _ y: Double, _ x: Double) {
        self.z = z
        self.y = y
        self.x = x
    }

    /// The world origin.
    public static let zero = WorldPoint(0, 0, 0)

    /// The components as an array `[z, y, x]`.
    public var components: [Double] { [z, y, x] }

    public var description: String { "\(z),\(y),\(x) nm" }
}

/// The physical size of one voxel in nanometres (z, y, x); EM volumes are usually anisotropic.
public struct VoxelSize: Hashable, Codable, Sendable, CustomStringConvertible {
    public var z: Double
    public var y: Double
    public var x: Double

    /// Creates a voxel size from its extents in nanometres.
    public init(_ z: Double, _ y: Double, _ x: Double) {
        self.z = z
        self.y = y
        self.x = x
    }

    /// One nanometre on every axis: what a volume without resolution metadata gets.
    public static let unit = VoxelSize(1, 1, 1)

    /// The components as an array `[z, y, x]`.
    public var components: [Double] { [z, y, x] }

    public var description: String { "\(z),\(y),\(x) nm" }

    /// The world position of a voxel's corner, for a volume whose voxel (0,0,0) sits at `origin`.
    public func world(_ voxel: Coordinate, origin: WorldPoint = .zero) -> WorldPoint {
        WorldPoint(origin.z + Double(voxel.z) * z, origin.y + Double(voxel.y) * y, origin.x + Double(voxel.x) * x)
    }

    /// The voxel that contains a world position (rounding down), for a volume whose voxel
    /// (0,0,0) sits at `origin`. Positions within 1e-6 voxel of a boundary snap to it, so that
    /// `voxel(world(c)) == c` despite floating-point rounding.
    public func voxel(containing point: WorldPoint, origin: WorldPoint = .zero) -> Coordinate {
        func index(_ p: Double, _ o: Double, _ size: Double) -> Int {
            let exact = (p - o) / size
            let nearest = exact.rounded()
            return abs(exact - nearest) < 1e-6 ? Int(nearest) : Int(exact.rounded(.down))
        }
        return Coordinate(index(point.z, origin.z, z), index(point.y, origin.y, y), index(point.x, origin.x, x))
    }

    /// Distance in nanometres between two voxel positions under this anisotropy.
    public func distance(_ a: Coordinate, _ b: Coordinate) -> Double {
        let dz = Double(a.z - b.z) * z, dy = Double(a.y - b.y) * y, dx = Double(a.x - b.x) * x
        return (dz * dz + dy * dy + dx * dx).squareRoot()
    }
}
