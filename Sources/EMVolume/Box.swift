/// An axis-aligned box in voxel space: an offset and a shape, axes z, y, x.
///
/// The box covers voxels `offset ..< offset + shape` on each axis. An empty box has a zero
/// (or negative) extent on some axis.
public struct Box: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The first voxel of the box.
    public var offset: Coordinate
    /// The extent of the box in voxels.
    public var shape: Coordinate

    /// Creates a box from its first voxel and its extent.
    public init(offset: Coordinate, shape: Coordinate) {
        self.offset = offset
        self.shape = shape
    }

    /// Creates a box at the origin with the given extent.
    public init(shape: Coordinate) {
        self.init(offset: .zero, shape: shape)
    }

    /// Creates the box spanning `begin ..< end`.
    public init(begin: Coordinate, end: Coordinate) {
        self.init(offset: begin, shape: end - begin)
    }

    /// One past the last voxel on each axis.
    public var end: Coordinate { offset + shape }

    /// Number of voxels covered (zero for an empty box).
    public var voxelCount: Int { isEmpty ? 0 : shape.product }

    /// True when some axis has no extent.
    public var isEmpty: Bool { shape.z <= 0 || shape.y <= 0 || shape.x <= 0 }

    /// The overlap of two boxes, or nil when they do not overlap.
    public func intersection(_ other: Box) -> Box? {
        let begin = Coordinate.maximum(offset, other.offset)
        let stop = Coordinate.minimum(end, other.end)
        let result = Box(begin: begin, end: stop)
        return result.isEmpty ? nil : result
    }

    /// The smallest box holding both boxes.
    public func union(_ other: Box) -> Box {
        Box(begin: Coordinate.minimum(offset, other.offset), end: Coordinate.maximum(end, other.end))
    }

    /// True when `other` lies entirely inside this box (an empty box is inside every box).
    public func contains(_ other: Box) -> Bool {
        if other.isEmpty { return true }
        return Coordinate.all(offset, other.offset, <=) && Coordinate.all(other.end, end, <=)
    }

    /// True when the voxel lies inside this box.
    public func contains(_ point: Coordinate) -> Bool {
        Coordinate.all(offset, point, <=) && Coordinate.all(point, end, <)
    }

    /// The box grown by `halo` voxels on both sides of each axis (negative shrinks).
    public func grown(by halo: Coordinate) -> Box {
        Box(offset: offset - halo, shape: shape + halo * 2)
    }

    /// The box moved by `delta`.
    public func translated(by delta: Coordinate) -> Box {
        Box(offset: offset + delta, shape: shape)
    }

    /// `[z0:z1, y0:y1, x0:x1]`.
    public var description: String {
        "[\(offset.z):\(end.z), \(offset.y):\(end.y), \(offset.x):\(end.x)]"
    }

    /// Parses a region of interest written `z0:z1,y0:y1,x0:x1` (half-open, voxels).
    public static func parse(_ text: String) throws -> Box {
        let axes = text.split(separator: ",", omittingEmptySubsequences: false)
        guard axes.count == 3 else {
            throw GeometryError.malformed(text: text, expected: "a region z0:z1,y0:y1,x0:x1")
        }
        var begin = Coordinate.zero, stop = Coordinate.zero
        for (axis, part) in axes.enumerated() {
            let bounds = part.split(separator: ":", omittingEmptySubsequences: false)
            guard bounds.count == 2,
                  let lower = Int(bounds[0].filter { $0 != " " }),
                  let upper = Int(bounds[1].filter { $0 != " " }), upper > lower else {
                throw GeometryError.malformed(text: text, expected: "a region z0:z1,y0:y1,x0:x1 with z0 < z1, y0 < y1, x0 < x1")
            }
            begin[axis] = lower
            stop[axis] = upper
        }
        return Box(begin: begin, end: stop)
    }
}
