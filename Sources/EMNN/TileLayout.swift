import EMVolume

/// Where a network's predictions lie when a volume is predicted block by block: which input
/// box each prediction reads and which output box it covers, for centre-crop stitching and for
/// blended tiles. The one tiler of emflow: the predict stage and the training's validation
/// both place their predictions with it.
///
/// Every prediction reads `UNetConfiguration.readBox(forOutput:in:)` of the volume, so tiles
/// see the pooling grid of a whole-volume pass and, with same padding, stop at the volume's
/// faces, where the network pads its features as in training: blocks reproduce one pass of the
/// network over the whole volume.
public struct TileLayout: Sendable {
    /// Context each prediction reads on each side of its output (the network's `halo`).
    public let halo: Coordinate
    /// The network's geometry, for valid input sizes.
    public let configuration: UNetConfiguration
    /// The volume predicted.
    public let bounds: Box
    /// Output shape of one blending tile (nil in crop mode).
    public let tile: Coordinate?
    /// Distance between neighbouring blending tiles (nil in crop mode).
    public let stride: Coordinate?

    /// A layout for crop-centre stitching over a volume covering `bounds`: one prediction per block.
    public init(configuration: UNetConfiguration, bounds: Box) {
        self.configuration = configuration
        self.halo = configuration.halo
        self.bounds = bounds
        self.tile = nil
        self.stride = nil
    }

    /// A layout for blending: tiles of at least `tile` output voxels, overlapping by at least
    /// `overlap` (the stride is rounded down to the alignment, and is at least one alignment).
    ///
    /// - Throws: `NNError.shapeMismatch` when no input size fits the tile.
    public init(configuration: UNetConfiguration, bounds: Box, tile: Coordinate, overlap: Coordinate) throws {
        let halo = configuration.halo
        self.init(configuration: configuration, bounds: bounds,
                  tileOutput: try Self.inputSize(forOutput: tile, halo: halo, configuration: configuration) - halo * 2, overlap: overlap)
    }

    private init(configuration: UNetConfiguration, bounds: Box, tileOutput: Coordinate, overlap: Coordinate) {
        self.configuration = configuration
        self.halo = configuration.halo
        self.bounds = bounds
        self.tile = tileOutput
        let a = configuration.blockAlignment
        self.stride = Coordinate.zip(tileOutput - overlap, a) { free, a in Swift.max(a, (free / a) * a) }
    }

    /// The input box whose prediction covers `output` (a block in crop mode, a tile in blending).
    public func readBox(forOutput output: Box) throws -> Box {
        try configuration.readBox(forOutput: output, in: bounds)
    }

    /// The smallest input the network accepts that predicts at least `output` voxels after
    /// `halo` on each side.
    private static func inputSize(forOutput output: Coordinate, halo: Coordinate, configuration: UNetConfiguration) throws -> Coordinate {
        guard configuration.padding == .same else { return try configuration.inputSize(forOutput: output) }
        let alignment = configuration.blockAlignment
        return Coordinate.ceilDivide(output + halo * 2, alignment) * alignment
    }

    /// The output boxes of the blending tiles that overlap `box`.
    public func tiles(covering box: Box) -> [Box] {
        guard let tile, let stride else { return [] }
        var first = Coordinate.zero, last = Coordinate.zero
        for axis in 0..<3 {
            // Tile k covers [k * stride, k * stride + tile); tiles start at k = 0.
            first[axis] = Swift.max(0, Coordinate.floorDivide(box.offset[axis] - tile[axis], stride[axis]) + 1)
            last[axis] = Coordinate.floorDivide(box.end[axis] - 1, stride[axis])
        }
        var result: [Box] = []
        for z in first.z...last.z { for y in first.y...last.y { for x in first.x...last.x {
            result.append(Box(offset: Coordinate(z, y, x) * stride, shape: tile))
        } } }
        return result
    }

    /// The input box every prediction of `box` reads together.
    public func readBox(for box: Box) throws -> Box {
        guard tile != nil else { return try readBox(forOutput: box) }
        let boxes = try tiles(covering: box).map(readBox(forOutput:))
        return boxes.dropFirst().reduce(boxes[0]) { $0.union($1) }
    }

    /// Crop-mode blocks of `blockOutput` voxels (or `region`'s extent, when smaller) that cover
    /// `region`, row by row; the last block along an axis is moved back inside `region` rather
    /// than cut, so that every block has the same input size.
    public func blocks(covering region: Box, blockOutput: Coordinate) -> [Box] {
        let shape = Coordinate.minimum(blockOutput, region.shape)
        var origins: [[Int]] = [[], [], []]
        for axis in 0..<3 {
            var start = region.offset[axis]
            repeat {
                origins[axis].append(Swift.min(start, Swift.max(region.end[axis] - shape[axis], region.offset[axis])))
                start += shape[axis]
            } while start < region.end[axis]
        }
        return origins[0].flatMap { z in origins[1].flatMap { y in origins[2].map { x in Box(offset: Coordinate(z, y, x), shape: shape) } } }
    }
}
