import EMLabels
import EMVolume

/// One connected component: its size, centre in nanometres, bounding box and score.
public struct DetectedObject: Hashable, Codable, Sendable {
    /// 1-based id in the order of each object's first voxel (z, y, x raster order).
    public var id: Int
    /// Voxels in the object.
    public var voxelCount: Int
    /// Physical volume in cubic nanometres.
    public var volume: Double
    /// Mean of the voxel positions in world coordinates (nm): `origin + index * voxelSize`.
    public var centre: WorldPoint
    /// Bounding box in voxels (global coordinates).
    public var box: Box
    /// The object's score: maximum or mean of its voxels' scores (0 for truth objects).
    public var score: Double

    /// Creates an object record.
    public init(id: Int, voxelCount: Int, volume: Double, centre: WorldPoint, box: Box, score: Double) {
        self.id = id
        self.voxelCount = voxelCount
        self.volume = volume
        self.centre = centre
        self.box = box
        self.score = score
    }

    /// Euclidean distance between two centres in nanometres.
    public func distance(to other: DetectedObject) -> Double {
        let dz = centre.z - other.centre.z, dy = centre.y - other.centre.y, dx = centre.x - other.centre.x
        return (dz * dz + dy * dy + dx * dx).squareRoot()
    }
}

/// Which voxel scores make an object's score.
public enum ObjectScore: String, Hashable, Codable, Sendable, CaseIterable {
    /// The largest voxel score.
    case maximum
    /// The mean voxel score.
    case mean
}

/// Where the voxels of a labelled region sit in the world.
public struct VoxelPlacement: Hashable, Codable, Sendable {
    /// Global voxel index of the first labelled voxel (the region's offset).
    public var offset: Coordinate
    /// Nanometres per voxel.
    public var voxelSize: VoxelSize
    /// World position of global voxel (0, 0, 0).
    public var origin: WorldPoint

    /// Creates a placement.
    public init(offset: Coordinate = .zero, voxelSize: VoxelSize = .unit, origin: WorldPoint = .zero) {
        self.offset = offset
        self.voxelSize = voxelSize
        self.origin = origin
    }
}

extension ComponentStatistics {
    /// The object these statistics describe (positions in voxels relative to `placement.offset`).
    public func object(id: Int, placement: VoxelPlacement, score mode: ObjectScore) -> DetectedObject {
        let n = Double(voxelCount)
        let size = placement.voxelSize, o = placement.offset
        let centre = WorldPoint(placement.origin.z + (Double(o.z) + sumZ / n) * size.z,
                                placement.origin.y + (Double(o.y) + sumY / n) * size.y,
                                placement.origin.x + (Double(o.x) + sumX / n) * size.x)
        return DetectedObject(id: id, voxelCount: voxelCount, volume: n * size.z * size.y * size.x, centre: centre,
                              box: Box(begin: lower + o, end: upper + o + Coordinate(repeating: 1)),
                              score: mode == .maximum ? scoreMax : scoreSum / n)
    }
}
