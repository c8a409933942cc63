import EMStorage
@testable import EMTIFF
import EMVolume
import Foundation
import Testing

@Suite("TIFF round trips")
struct TIFFRoundTripTests {
    static let shape = Coordinate(7, 45, 38)
    static let voxelSize = VoxelSize(40, 4, 4.5)
    static let origin = WorldPoint(80, -12, 9)

    enum Layout: String, CaseIterable { case stack, slices }

    static func address(_ scratch: Scratch, _ layout: Layout) -> StoreAddress {
        StoreAddress(format: .tiff, path: layout == .stack ? scratch.path("stack.tif") : scratch.path("slices/z*.tif"))
    }

    @Test(arguments: [DataType.uint8, .uint16, .float32], TIFFOptions.Compression.allCases)
    func everyTypeCompressionAndLayout(dataType: DataType, compression: TIFFOptions.Compression) throws {
        for layout in Layout.allCases {
            for predictor in compression == .none ? [false] : [false, true] {
                let options = TIFFOptions(compression: compression, predictor: predictor, rowsPerStrip: 8)
                switch dataType {
                case .uint8: try roundTrip(UInt8.self, layout: layout, options: options)
                case .uint16: try roundTrip(UInt16.self, layout: layout, options: options)
                default: try roundTrip(Float.self, layout: layout, options: options)
                }
            }
        }
    }

    /// Writes a random volume in sections out of order, reopens it, and compares every probe
    /// box (inside, crossing sections, partial strips, partly and wholly outside) with a
    /// naive read of the source.
    func roundTrip<T: VoxelScalar>(_ type: T.Type, layout: Layout, options: TIFFOptions) throws {
        let scratch = try Scratch("tiff-roundtrip")
        let address = Self.address(scratch, layout)
        let source = TIFFTestData.random(T.self, shape: Self.shape, seed: 7)
        let spec = VolumeSpec(shape: Self.shape, dataType: T.dataType, chunkShape: Coordinate(1, 16, 16),
                              voxelSize: Self.voxelSize, origin: Self.origin, codec: .raw)
        let store = try TIFFStore.create(address, spec: spec, options: options)
        #expect(store.metadata.chunkShape == Coordinate(1, 45, 38))
        for slab in [Box(begin: Coordinate(3, 0, 0), end: Coordinate(5, 45, 38)), Box(begin: Coordinate(5, 0, 0), end: Coordinate(7, 45, 38)),
                     Box(begin: Coordinate(0, 0, 0), end: Coordinate(3, 45, 38))] {
            try store.write(source.cropped(to: slab))
        }
        try store.flush()

        let reopened = try TIFFStore.open(address)
        let expectedCodec = options.compression.map { $0 == .none ? "raw" : $0.rawValue }
        let label = "\(T.dataType) \(layout) \(options)"
        #expect(reopened.metadata.shape == Self.shape, "\(label)")
        #expect(reopened.metadata.dataType == T.dataType, "\(label)")
        #expect(reopened.metadata.chunkShape == Coordinate(1, 45, 38), "\(label)")
        #expect(reopened.metadata.voxelSize == Self.voxelSize, "\(label)")
        #expect(reopened.metadata.origin == Self.origin, "\(label)")
        #expect(reopened.metadata.codec == expectedCodec, "\(label)")
        for box in TIFFTestData.probeBoxes(Self.shape) {
            let read = try reopened.read(box, as: T.self)
            #expect(read.storage == TIFFTestData.naiveRead(source, box, fill: .zero), "\(label) box \(box)")
        }
        let fill = T(clampingDouble: 3)
        for box in [Box(begin: Coordinate(-2, 40, -3), end: Coordinate(2, 50, 5)), Box(offset: Coordinate(9, 0, 0), shape: Coordinate(2, 3, 4))] {
            let read = try reopened.read(box, as: T.self, fill: fill)
            #expect(read.storage == TIFFTestData.naiveRead(source, box, fill: fill), "\(label) box \(box) with fill")
            #expect(throws: StorageError.self) { try reopened.read(box, as: T.self) }
        }
        #expect(try reopened.bytesOnDisk() > 0)
    }

    @Test func slicesSortNaturallyAndTakeTheirNumberFromThePattern() throws {
        let scratch = try Scratch("tiff-natural")
        // Files z1 ... z12, each holding its own number: lexical order would put z10 before z2.
        for number in 1...12 {
            let address = StoreAddress(format: .tiff, path: scratch.path("slices/z\(number).tif"))
            let store = try TIFFStore.create(address, spec: VolumeSpec(shape: Coordinate(1, 5, 6), dataType: .uint8,
                                                                       chunkShape: Coordinate(1, 5, 6), codec: .raw))
            try store.write(TIFFTestData.sections([UInt8(number)], height: 5, width: 6))
            try store.flush()
        }
        let store = try TIFFStore.open(StoreAddress(format: .tiff, path: scratch.path("slices/z*.tif")))
        #expect(store.files.map { URL(fileURLWithPath: $0).lastPathComponent } == (1...12).map { "z\($0).tif" })
        let volume = try store.readAll(as: UInt8.self)
        #expect(volume == TIFFTestData.sections(Array(1...12), height: 5, width: 6))

        let created = try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("out/s_*.tiff")),
                                           spec: VolumeSpec(shape: Coordinate(3, 2, 2), dataType: .uint16, chunkShape: Coordinate(1, 2, 2)))
        #expect(created.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["s_0000.tiff", "s_0001.tiff", "s_0002.tiff"])
    }

    @Test func naturalOrderAndNewNames() throws {
        let names = ["z10.tif", "z2.tif", "z1.tif", "a.tif", "z02.tif", "z1b.tif", "y100.tif"]
        #expect(names.sorted(by: naturallyPrecedes) == ["a.tif", "y100.tif", "z1.tif", "z1b.tif", "z02.tif", "z2.tif", "z10.tif"])
        #expect(try SlicePattern("d/img_*.tif").newFileNames(count: 12_345).last == "img_12344.tif")
        #expect(throws: StorageError.self) { try SlicePattern("d/*_*.tif").newFileNames(count: 2) }
        #expect(throws: StorageError.self) { try SlicePattern("d*/x*.tif") }
    }

    @Test func stackWritesStayStagedUntilFlush() throws {
        let scratch = try Scratch("tiff-staging")
        let path = scratch.path("stack.tif")
        let address = StoreAddress(format: .tiff, path: path)
        let spec = VolumeSpec(shape: Coordinate(4, 9, 11), dataType: .uint16, chunkShape: Coordinate(1, 9, 11), codec: .gzip(level: 6), fillValue: 7)
        let store = try TIFFStore.create(address, spec: spec)
        try store.write(Volume<UInt16>(box: Box(offset: Coordinate(2, 0, 0), shape: Coordinate(1, 9, 11)), repeating: 500))
        #expect(!FileManager.default.fileExists(atPath: path))
        // Reads of the store see the staged section and the fill value elsewhere.
        let before = try store.readAll(as: UInt16.self)
        #expect(before.storage == (0..<4).flatMap { z in Array(repeating: UInt16(z == 2 ? 500 : 7), count: 99) })
        // Another store opened before the flush sees the same (the staging manifest and section).
        #expect(try TIFFStore.open(address).readAll(as: UInt16.self) == before)

        try store.flush()
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(!FileManager.default.fileExists(atPath: StackFile.stagingDirectory(of: path)))
        try store.write(Volume<UInt16>(box: Box(offset: Coordinate(0, 0, 0), shape: Coordinate(1, 9, 11)), repeating: 9))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == written, "the file changes only at flush")
        try store.flush()
        let after = try TIFFStore.open(address)
        #expect(after.metadata.codec == "deflate")
        #expect(try after.readAll(as: UInt16.self).storage == (0..<4).flatMap { z in Array(repeating: UInt16([9, 7, 500, 7][z]), count: 99) })
    }

    @Test func createRefusesExistingVolumesUnlessOverwriting() throws {
        let scratch = try Scratch("tiff-overwrite")
        for path in [scratch.path("a.tif"), scratch.path("s/*.tif")] {
            let address = StoreAddress(format: .tiff, path: path)
            let big = VolumeSpec(shape: Coordinate(5, 4, 4), dataType: .uint8, chunkShape: Coordinate(1, 4, 4), codec: .raw)
            try TIFFStore.create(address, spec: big).flush()
            #expect(throws: StorageError.self) { try TIFFStore.create(address, spec: big) }
            let small = VolumeSpec(shape: Coordinate(2, 3, 3), dataType: .uint8, chunkShape: Coordinate(1, 3, 3), codec: .raw)
            try TIFFStore.create(address, spec: small, overwrite: true).flush()
            #expect(try TIFFStore.open(address).metadata.shape == Coordinate(2, 3, 3), "old sections are gone: \(path)")
        }
    }
}
