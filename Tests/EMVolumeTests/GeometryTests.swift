import Testing
@testable import EMVolume

@Suite("Geometry")
struct GeometryTests {
    @Test func coordinateParsing() throws {
        #expect(try Coordinate.parse("4, 64,128") == Coordinate(4, 64, 128))
        #expect(try Coordinate.parse("32") == Coordinate(32, 32, 32))
        #expect(throws: GeometryError.self) { try Coordinate.parse("1,2") }
        #expect(throws: GeometryError.self) { try Coordinate.parse("a,b,c") }
    }

    @Test func boxIntersectionAndContainment() {
        let a = Box(offset: Coordinate(0, 0, 0), shape: Coordinate(10, 10, 10))
        let b = Box(offset: Coordinate(5, -3, 8), shape: Coordinate(10, 5, 10))
        #expect(a.intersection(b) == Box(begin: Coordinate(5, 0, 8), end: Coordinate(10, 2, 10)))
        #expect(a.intersection(Box(offset: Coordinate(10, 0, 0), shape: Coordinate(1, 1, 1))) == nil)
        #expect(a.contains(Box(offset: Coordinate(1, 1, 1), shape: Coordinate(9, 9, 9))))
        #expect(!a.contains(Box(offset: Coordinate(1, 1, 1), shape: Coordinate(10, 9, 9))))
        #expect(a.grown(by: Coordinate(1, 2, 3)) == Box(offset: Coordinate(-1, -2, -3), shape: Coordinate(12, 14, 16)))
    }

    @Test func roiParsing() throws {
        #expect(try Box.parse("0:10,5:20,3:4") == Box(begin: Coordinate(0, 5, 3), end: Coordinate(10, 20, 4)))
        #expect(throws: GeometryError.self) { try Box.parse("0:10,5:20") }
        #expect(throws: GeometryError.self) { try Box.parse("5:1,0:1,0:1") }
    }

    @Test func worldVoxelRoundTrip() {
        let size = VoxelSize(40, 4, 4)
        let origin = WorldPoint(80, 12, 0)
        for c in [Coordinate(0, 0, 0), Coordinate(3, 17, 250), Coordinate(-2, 5, 9)] {
            #expect(size.voxel(containing: size.world(c, origin: origin), origin: origin) == c)
        }
        #expect(size.voxel(containing: WorldPoint(119.9, 15.99, 3.99), origin: origin) == Coordinate(0, 0, 0))
        #expect(abs(size.distance(Coordinate(0, 0, 0), Coordinate(1, 3, 4)) - (1600.0 + 400).squareRoot()) < 1e-12)
    }
}

@Suite("BlockGrid")
struct BlockGridTests {
    /// Every voxel of the region is written by exactly one block (shrink and overhang).
    @Test(arguments: [EdgeFit.shrink, .overhang, .valid])
    func tiling(fit: EdgeFit) throws {
        let region = Box(offset: Coordinate(2, 3, 1), shape: Coordinate(7, 10, 9))
        let grid = try BlockGrid(region: region, blockShape: Coordinate(3, 4, 4), fit: fit)
        var cover = [Int](repeating: 0, count: region.voxelCount)
        for block in grid.blocks {
            #expect(grid.block(id: block.id) == block)
            if fit != .overhang { #expect(region.contains(block.writeBox)) }
            guard let inside = block.writeBox.intersection(region) else { continue }
            for z in inside.offset.z..<inside.end.z {
                for y in inside.offset.y..<inside.end.y {
                    for x in inside.offset.x..<inside.end.x {
                        let p = Coordinate(z, y, x) - region.offset
                        cover[(p.z * region.shape.y + p.y) * region.shape.x + p.x] += 1
                    }
                }
            }
        }
        switch fit {
        case .shrink, .overhang:
            #expect(grid.gridShape == Coordinate(3, 3, 3))
            #expect(cover.allSatisfy { $0 == 1 })
        case .valid:
            #expect(grid.gridShape == Coordinate(2, 2, 2))
            #expect(cover.allSatisfy { $0 <= 1 })
            #expect(cover.filter { $0 == 1 }.count == 6 * 8 * 8)
        }
    }

    @Test func rejectsBadShapes() {
        let region = Box(shape: Coordinate(4, 4, 4))
        #expect(throws: GeometryError.self) { try BlockGrid(region: region, blockShape: Coordinate(0, 2, 2)) }
        #expect(throws: GeometryError.self) { try BlockGrid(region: Box(shape: Coordinate(0, 4, 4)), blockShape: Coordinate(2, 2, 2)) }
    }
}

@Suite("Volume")
struct VolumeTests {
    @Test func pasteAndCropMatchNaiveLoops() {
        var big = Volume<UInt16>(box: Box(offset: Coordinate(-1, 2, 3), shape: Coordinate(5, 6, 7)))
        for i in big.storage.indices { big.storage[i] = UInt16(i) }
        let region = Box(offset: Coordinate(0, 4, 5), shape: Coordinate(3, 2, 4))
        let crop = big.cropped(to: region)
        for z in 0..<3 { for y in 0..<2 { for x in 0..<4 {
            let g = Coordinate(z, y, x) + region.offset
            #expect(crop[z, y, x] == big[global: g])
        } } }
        var target = Volume<UInt16>(box: Box(offset: Coordinate(1, 0, 0), shape: Coordinate(4, 8, 8)), repeating: 7)
        target.paste(big)
        for z in 0..<4 { for y in 0..<8 { for x in 0..<8 {
            let g = Coordinate(z, y, x) + target.box.offset
            let expected: UInt16 = big.box.contains(g) ? big[global: g] : 7
            #expect(target[z, y, x] == expected)
        } } }
    }

    @Test func clampingConversion() {
        #expect(UInt8(clampingDouble: 300) == 255)
        #expect(UInt8(clampingDouble: -4) == 0)
        #expect(UInt16(clampingDouble: 2.5) == 2 || UInt16(clampingDouble: 2.5) == 3)
        #expect(Float(clampingDouble: 0.25) == 0.25)
    }
}
