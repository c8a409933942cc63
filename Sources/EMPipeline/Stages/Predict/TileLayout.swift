import EMNN
import EMVolume

/// Where a network's tiles lie: which input box each prediction reads and which output box it
/// covers, for both stitching modes.
///
/// All tiles read from an origin congruent to `-halo` modulo the network's block alignment, as
/// a whole-volume pass (the volume padded by the halo) does, so every tile sees the same
/// pooling grid and blocks reproduce a prediction of the zero-extended whole volume.
struct TileLayout: Sendable {
    /// Context each prediction reads on each side of its output (the network's `halo`).
    let halo: Coordinate
    /// The product of the pooling factors.
    let alignment: Coordinate
    /// The network's geometry, for valid input sizes.
    let configuration: UNetConfiguration
    /// Output shape of one blending tile (nil in crop mode).
    let tile: Coordinate?
    /// Distance between neighbouring blending tiles (nil in crop mode).
    let stride: Coordinate?

    /// A layout for crop-centre stitching: one prediction per block.
    init(configuration: UNetConfiguration) {
        self.configuration = configuration
        self.halo = configuration.halo
        self.alignment = configuration.blockAlignment
        self.tile = nil
        self.stride = nil
    }

    /// A layout for blending: tiles of at least `tile` output voxels, overlapping by at least
    /// `overlap` (the stride is rounded down to the alignment, and is at least one alignment).
    ///
    /// - Throws: `NNError.shapeMismatch` when no input size fits the tile.
    init(configuration: UNetConfiguration, tile: Coordinate, overlap: Coordinate) throws {
        let halo = configuration.halo
        self.init(configuration: configuration, tileOutput: try Self.inputSize(forOutput: tile, halo: halo, configuration: configuration) - halo * 2,
                  overlap: overlap)
    }

    private init(configuration: UNetConfiguration, tileOutput: Coordinate, overlap: Coordinate) {
        self.configuration = configuration
        self.halo = configuration.halo
        self.alignment = configuration.blockAlignment
        self.tile = tileOutput
        let a = configuration.blockAlignment
        self.stride = Coordinate.zip(tileOutput - overlap, a) { free, a in Swift.max(a, (free / a) * a) }
    }

    /// The input box the crop-mode prediction of `box` reads: `box` grown by the halo, its
    /// origin aligned down and its shape grown to the nearest size the network accepts.
    func cropReadBox(for box: Box) throws -> Box {
        let start = Coordinate.floorDivide(box.offset, alignment) * alignment
        let shape = try Self.inputSize(forOutput: box.end - start, halo: halo, configuration: configuration)
        return Box(offset: start - halo, shape: shape)
    }

    /// The smallest input the network accepts that predicts at least `output` voxels after
    /// `halo` on each side.
    private static func inputSize(forOutput output: Coordinate, halo: Coordinate, configuration: UNetConfiguration) throws -> Coordinate {
        guard configuration.padding == .same else { return try configuration.inputSize(forOutput: output) }
        let alignment = configuration.blockAlignment
        return Coordinate.ceilDivide(output + halo * 2, alignment) * alignment
    }

    /// The output boxes of the blending tiles that overlap `box`.
    func tiles(covering box: Box) -> [Box] {
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

    /// The input box that predicts the tile whose output box is `output`.
    func readBox(forTile output: Box) -> Box { output.grown(by: halo) }

    /// The input box every prediction of `box` reads together.
    func readBox(for box: Box) throws -> Box {
        guard tile != nil else { return try cropReadBox(for: box) }
        let boxes = tiles(covering: box).map(readBox(forTile:))
        return boxes.dropFirst().reduce(boxes[0]) { $0.union($1) }
    }
}
