import EMLabels
import EMEvaluation
import EMVolume

/// Joins the block-local labels of a block grid into components of the whole region: across
/// every face between blocks, touching foreground voxels of neighbouring blocks are united,
/// then each component gets the label of its rank by first voxel in a raster scan of the
/// region (the labelling a whole-volume scan would give).
struct ComponentMerge {
    let grid: BlockGrid
    let connectivity: Connectivity
    /// Global id of label 1 of each block.
    let offsets: [Int]
    /// Number of block-local labels over all blocks.
    let total: Int
    private var forest: UnionFind

    /// Prepares a merge of blocks holding `counts[id]` labels each.
    init(grid: BlockGrid, connectivity: Connectivity, counts: [Int]) {
        self.grid = grid
        self.connectivity = connectivity
        var offsets: [Int] = []
        offsets.reserveCapacity(counts.count)
        var running = 0
        for count in counts {
            offsets.append(running)
            running += count
        }
        self.offsets = offsets
        self.total = running
        self.forest = UnionFind(count: running)
    }

    /// The box of local labels `join` needs for the face of `block` on its lower side along
    /// `axis`: two voxels thick across the face, one voxel wider than the block on the other
    /// axes (clipped to the region). Nil when the block starts the region on that axis.
    func slabBox(of block: Block, axis: Int) -> Box? {
        let region = grid.region
        let write = block.writeBox.intersection(region) ?? block.writeBox
        guard write.offset[axis] > region.offset[axis] else { return nil }
        var begin = write.offset - Coordinate(repeating: 1)
        var end = write.end + Coordinate(repeating: 1)
        begin[axis] = write.offset[axis] - 1
        end[axis] = write.offset[axis] + 1
        return Box(begin: Coordinate.maximum(begin, region.offset), end: Coordinate.minimum(end, region.end))
    }

    /// Unites the components touching across every face between blocks, reading the local
    /// labels of each face's slab with `slab`.
    mutating func joinAll(slab: (Box) throws -> Volume<UInt32>) rethrows {
        for block in grid.blocks {
            for axis in 0..<3 {
                guard let box = slabBox(of: block, axis: axis) else { continue }
                join(block, axis: axis, slab: try slab(box))
            }
        }
    }

    /// Unites the components that touch across the lower face of `block` along `axis`;
    /// `slab` holds the local labels over `slabBox(of: block, axis:)`.
    mutating func join(_ block: Block, axis: Int, slab: Volume<UInt32>) {
        let write = block.writeBox.intersection(grid.region) ?? block.writeBox
        let plane = write.offset[axis]
        let crossing = connectivity.offsets.filter { $0[axis] == -1 }
        var upper = write
        upper.offset[axis] = plane
        upper.shape[axis] = 1
        let box = slab.box
        for z in upper.offset.z..<upper.end.z {
            for y in upper.offset.y..<upper.end.y {
                for x in upper.offset.x..<upper.end.x {
                    let v = Coordinate(z, y, x)
                    let lv = slab[global: v]
                    guard lv != 0 else { continue }
                    let gv = globalID(at: v, local: lv)
                    for offset in crossing {
                        let u = v + offset
                        guard box.contains(u) else { continue }
                        let lu = slab[global: u]
                        if lu != 0 { forest.union(gv, globalID(at: u, local: lu)) }
                    }
                }
            }
        }
    }

    /// The global id of local label `local` of the block holding voxel `point`.
    private func globalID(at point: Coordinate, local: UInt32) -> Int {
        let index = Coordinate.floorDivide(point - grid.region.offset, grid.blockShape)
        let id = (index.z * grid.gridShape.y + index.y) * grid.gridShape.x + index.x
        return offsets[id] + Int(local) - 1
    }

    /// The final label (1...components) of every global id, given the raster index of each
    /// block-local label's first voxel (`firstIndex[block][label - 1]`); and the number of
    /// components.
    mutating func labels(firstIndex: [[UInt64]]) -> (mapping: [UInt64], components: Int) {
        var key = [UInt64](repeating: .max, count: total)
        for (block, indices) in firstIndex.enumerated() {
            for (local, index) in indices.enumerated() {
                let root = forest.find(offsets[block] + local)
                key[root] = min(key[root], index)
            }
        }
        let roots = (0..<total).filter { forest.find($0) == $0 }.sorted { key[$0] < key[$1] }
        var label = [UInt64](repeating: 0, count: total)
        for (rank, root) in roots.enumerated() { label[root] = UInt64(rank + 1) }
        var mapping = [UInt64](repeating: 0, count: total)
        for id in 0..<total { mapping[id] = label[forest.find(id)] }
        return (mapping, roots.count)
    }
}
