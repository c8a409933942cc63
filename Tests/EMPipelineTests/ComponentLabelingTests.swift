import EMLabels
import EMEvaluation
@testable import EMPipeline
import EMVolume
import Testing

@Suite("Connected components, in memory")
struct ComponentLabelingTests {
    @Test("one block labels like a whole-volume breadth-first search", arguments: [6, 18, 26])
    func singleBlock(connectivity: Int) {
        let mask = randomMask(Coordinate(9, 13, 11), density: 0.35, seed: UInt64(connectivity))
        let labelled = LabelledComponents(mask, connectivity: Connectivity(neighbourCount: connectivity)!)
        let reference = referenceComponents(mask, connectivity: connectivity)
        #expect(labelled.labels.storage.map(UInt64.init) == reference.storage)
        #expect(labelled.count == Int(reference.storage.max() ?? 0))
        // The first voxel of each label, by a direct scan.
        var first: [UInt64: UInt64] = [:]
        for (index, label) in reference.storage.enumerated() where label != 0 && first[label] == nil { first[label] = UInt64(index) }
        #expect(labelled.firstIndices(regionShape: mask.shape) == (1...labelled.count).map { first[UInt64($0)]! })
    }

    @Test("blocks merged across faces equal the whole-volume labels, dividing or not",
          arguments: [(6, Coordinate(4, 4, 4)), (6, Coordinate(5, 3, 7)), (18, Coordinate(3, 5, 4)), (26, Coordinate(4, 6, 5)), (26, Coordinate(1, 20, 3))])
    func mergedBlocks(connectivity: Int, blockShape: Coordinate) throws {
        let shape = Coordinate(12, 17, 15)
        let mask = randomMask(shape, density: 0.3, seed: 7 + UInt64(connectivity))
        let kind = Connectivity(neighbourCount: connectivity)!
        let grid = try BlockGrid(region: Box(shape: shape), blockShape: blockShape)
        var local = Volume<UInt32>(shape: shape)
        var counts: [Int] = [], first: [[UInt64]] = []
        for block in grid.blocks {
            let labelled = LabelledComponents(mask.cropped(to: block.writeBox), connectivity: kind)
            local.paste(labelled.labels)
            counts.append(labelled.count)
            first.append(labelled.firstIndices(regionShape: shape))
        }
        var merge = ComponentMerge(grid: grid, connectivity: kind, counts: counts)
        for block in grid.blocks {
            for axis in 0..<3 {
                guard let box = merge.slabBox(of: block, axis: axis) else { continue }
                merge.join(block, axis: axis, slab: local.cropped(to: box))
            }
        }
        let (mapping, components) = merge.labels(firstIndex: first)
        var result = Volume<UInt64>(shape: shape)
        for block in grid.blocks {
            let part = local.cropped(to: block.writeBox)
            result.paste(part.map { $0 == 0 ? UInt64(0) : mapping[merge.offsets[block.id] + Int($0) - 1] })
        }
        let reference = referenceComponents(mask, connectivity: connectivity)
        #expect(components == Int(reference.storage.max() ?? 0))
        #expect(result == reference)
    }

    @Test("neighbour offsets: 6, 18 and 26 of them, half visited before a voxel")
    func offsets() {
        #expect(Connectivity.faces.offsets.count == 6 && Connectivity.faces.backwardOffsets.count == 3)
        #expect(Connectivity.edges.offsets.count == 18 && Connectivity.edges.backwardOffsets.count == 9)
        #expect(Connectivity.corners.offsets.count == 26 && Connectivity.corners.backwardOffsets.count == 13)
    }
}
