/// How a `BlockGrid` treats blocks at the end of a region that the block shape does not divide.
public enum EdgeFit: String, Codable, Sendable, CaseIterable {
    /// Keep only blocks whose write box lies entirely inside the region; a remainder thinner
    /// than one block is left uncovered.
    case valid
    /// Keep full-size blocks that stick out past the region's end; the caller clips or pads.
    case overhang
    /// Shrink the last block on each axis to end at the region's end (the default).
    case shrink
}

/// One block of a `BlockGrid`: the box it writes. (What a stage reads around it, its halo, is
/// the stage's own: `StageImplementation.inputBox(for:input:)`.)
public struct Block: Hashable, Codable, Sendable {
    /// Position of the block in the grid's row-major (z, y, x) order.
    public var id: Int
    /// Index of the block along each axis of the grid.
    public var gridIndex: Coordinate
    /// Voxels this block produces.
    public var writeBox: Box
}

/// Tiles a region with write boxes of a fixed shape.
public struct BlockGrid: Hashable, Codable, Sendable {
    /// The region the write boxes cover.
    public let region: Box
    /// Shape of a (full) write box.
    public let blockShape: Coordinate
    /// Treatment of blocks at the end of the region.
    public let fit: EdgeFit
    /// Number of blocks along each axis.
    public let gridShape: Coordinate

    /// Creates a grid over `region`.
    ///
    /// - Throws: `GeometryError.invalid` when the block shape is not positive or the region is
    ///   empty.
    public init(region: Box, blockShape: Coordinate, fit: EdgeFit = .shrink) throws {
        guard !region.isEmpty else { throw GeometryError.invalid("block grid region \(region) is empty") }
        guard Coordinate.all(blockShape, .zero, >) else {
            throw GeometryError.invalid("block shape \(blockShape) must be positive on every axis")
        }
        self.region = region
        self.blockShape = blockShape
        self.fit = fit
        switch fit {
        case .valid:
            gridShape = Coordinate.zip(region.shape, blockShape, /)
        case .overhang, .shrink:
            gridShape = Coordinate.ceilDivide(region.shape, blockShape)
        }
    }

    /// Number of blocks.
    public var count: Int { gridShape.product }

    /// The block at a grid position.
    public func block(at index: Coordinate) -> Block {
        precondition(Box(shape: gridShape).contains(index), "grid index \(index) outside grid \(gridShape)")
        let begin = region.offset + index * blockShape
        var write = Box(offset: begin, shape: blockShape)
        if fit == .shrink {
            write = Box(begin: begin, end: Coordinate.minimum(write.end, region.end))
        }
        let id = (index.z * gridShape.y + index.y) * gridShape.x + index.x
        return Block(id: id, gridIndex: index, writeBox: write)
    }

    /// The block with a given id (row-major order).
    public func block(id: Int) -> Block {
        precondition(id >= 0 && id < count, "block id \(id) outside 0..<\(count)")
        let x = id % gridShape.x
        let y = (id / gridShape.x) % gridShape.y
        let z = id / (gridShape.x * gridShape.y)
        return block(at: Coordinate(z, y, x))
    }

    /// All blocks in row-major (z, y, x) order.
    public var blocks: [Block] { (0..<count).map { block(id: $0) } }
}
