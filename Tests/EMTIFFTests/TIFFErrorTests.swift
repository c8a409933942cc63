import CTIFF
import EMStorage
@testable import EMTIFF
import EMVolume
import Foundation
import Testing

/// Bad input: each error is a `StorageError` that names the file and what was expected.
@Suite("TIFF bad input")
struct TIFFErrorTests {
    /// Writes a one-page TIFF with arbitrary sample layout straight through libtiff.
    static func writeRawTIFF(_ path: String, width: Int, height: Int, samples: UInt16, bits: UInt16, format: UInt16, photometric: UInt16) throws {
        let handle = try TIFFHandle.create(path, bigTIFF: false, reportingAs: path)
        try handle.set(.imageWidth, .u32(UInt32(width)))
        try handle.set(.imageLength, .u32(UInt32(height)))
        try handle.set(.samplesPerPixel, .u16(samples))
        try handle.set(.bitsPerSample, .u16(bits))
        try handle.set(.sampleFormat, .u16(format))
        try handle.set(.photometric, .u16(photometric))
        try handle.set(.planarConfig, .u16(UInt16(PLANARCONFIG_CONTIG)))
        try handle.set(.rowsPerStrip, .u32(UInt32(height)))
        var bytes = [UInt8](repeating: 1, count: width * height * Int(samples) * Int(bits) / 8)
        let size = bytes.count
        #expect(bytes.withUnsafeMutableBytes { TIFFWriteEncodedStrip(handle.tiff, 0, $0.baseAddress, tmsize_t(size)) } == size)
        #expect(TIFFWriteDirectory(handle.tiff) == 1)
        try handle.finishWriting()
    }

    /// Writes a uint8 volume with emflow.
    static func writeVolume(_ path: String, shape: Coordinate, value: UInt8 = 1) throws {
        let store = try TIFFStore.create(StoreAddress(format: .tiff, path: path),
                                         spec: VolumeSpec(shape: shape, dataType: .uint8, chunkShape: shape, codec: .raw), overwrite: true)
        try store.write(Volume<UInt8>(shape: shape, repeating: value))
        try store.flush()
    }

    /// The error `body` throws, as a `StorageError`.
    static func storageError(_ body: () throws -> Void) -> StorageError? {
        do {
            try body()
            return nil
        } catch {
            return error as? StorageError
        }
    }

    static func open(_ path: String) throws -> TIFFStore { try TIFFStore.open(StoreAddress(format: .tiff, path: path)) }

    @Test func notATIFFFile() throws {
        let scratch = try Scratch("tiff-bad")
        let path = scratch.path("text.tif")
        try "this is not an image".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(Self.storageError { _ = try Self.open(path) })
        guard case let .io(file, reason) = error else { Issue.record("unexpected \(error)"); return }
        #expect(file == path)
        #expect(reason.contains("TIFF"))
    }

    @Test func missingFileAndEmptyGlob() throws {
        let scratch = try Scratch("tiff-missing")
        #expect(Self.storageError { _ = try Self.open(scratch.path("none.tif")) } == .missing(path: scratch.path("none.tif"), what: "TIFF file"))
        try FileManager.default.createDirectory(atPath: scratch.path("empty"), withIntermediateDirectories: true)
        try "x".write(toFile: scratch.path("empty/notes.txt"), atomically: true, encoding: .utf8)
        let pattern = scratch.path("empty/*.tif")
        let error = try #require(Self.storageError { _ = try Self.open(pattern) })
        guard case let .missing(path, what) = error else { Issue.record("unexpected \(error)"); return }
        #expect(path == pattern)
        #expect(what.contains("*.tif"))
        #expect(Self.storageError { _ = try Self.open(scratch.path("nowhere/*.tif")) } != nil)
    }

    @Test func truncatedStacks() throws {
        let scratch = try Scratch("tiff-truncated")
        let path = scratch.path("stack.tif")
        try Self.writeVolume(path, shape: Coordinate(3, 40, 40))
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // Cut inside the second page: the first page reads, the chain of pages breaks.
        try FileHandle(forWritingAtPath: path)!.truncate(atOffset: UInt64(size / 2))
        let error = try #require(Self.storageError { _ = try Self.open(path) })
        #expect("\(error)".contains(path))
        guard case let .corruptChunk(file, _) = error else { Issue.record("unexpected \(error)"); return }
        #expect(file == "\(path) (page 1)")
        // Cut inside the first page's pixels: its directory (written after them) is gone.
        try FileHandle(forWritingAtPath: path)!.truncate(atOffset: 1000)
        let first = try #require(Self.storageError { _ = try Self.open(path) })
        #expect("\(first)".contains(path))
    }

    @Test func slicesThatDisagreeInSizeOrType() throws {
        let scratch = try Scratch("tiff-mismatch")
        try Self.writeVolume(scratch.path("a/z1.tif"), shape: Coordinate(1, 8, 8))
        try Self.writeVolume(scratch.path("a/z2.tif"), shape: Coordinate(1, 8, 8))
        try Self.writeVolume(scratch.path("a/z10.tif"), shape: Coordinate(1, 8, 6))
        let error = try #require(Self.storageError { _ = try Self.open(scratch.path("a/z*.tif")) })
        guard case let .malformedMetadata(file, _, expected) = error else { Issue.record("unexpected \(error)"); return }
        #expect(file == scratch.path("a/z10.tif"))
        #expect(expected.contains("8x8") && expected.contains("8x6") && expected.contains("z1.tif"))

        try Self.writeVolume(scratch.path("b/z1.tif"), shape: Coordinate(1, 8, 8))
        let store = try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("b/z2.tif")),
                                         spec: VolumeSpec(shape: Coordinate(1, 8, 8), dataType: .uint16, chunkShape: Coordinate(1, 8, 8), codec: .raw))
        try store.flush()
        let typeError = try #require(Self.storageError { _ = try Self.open(scratch.path("b/*.tif")) })
        #expect("\(typeError)".contains("z2.tif") && "\(typeError)".contains("uint16") && "\(typeError)".contains("uint8"))

        // A stack whose pages disagree names the page.
        try Self.writeVolume(scratch.path("c/two.tif"), shape: Coordinate(2, 8, 8))
        let handle = try TIFFHandle.create(scratch.path("c/mixed.tif"), bigTIFF: false, reportingAs: "mixed")
        for width in [8, 5] {
            var writer = TIFFPageWriter(height: 8, width: width, dataType: .uint8,
                                        encoding: try TIFFEncoding(compression: .none, level: nil, predictor: false, rowsPerStrip: nil, path: "mixed"),
                                        calibration: TIFFCalibration(voxelSize: .unit, origin: .zero))
            try [UInt8](repeating: 0, count: 8 * width).withUnsafeBytes { try writer.write(handle, plane: $0.baseAddress!, description: nil) }
        }
        try handle.finishWriting()
        let pageError = try #require(Self.storageError { _ = try Self.open(scratch.path("c/mixed.tif")) })
        #expect("\(pageError)".contains("mixed.tif (page 1)"))
    }

    @Test func colourAndUnsupportedSampleTypes() throws {
        let scratch = try Scratch("tiff-types")
        let cases: [(String, UInt16, UInt16, UInt16, UInt16, String)] = [
            ("rgb.tif", 3, 8, UInt16(SAMPLEFORMAT_UINT), UInt16(PHOTOMETRIC_RGB), "RGB"),
            ("u32.tif", 1, 32, UInt16(SAMPLEFORMAT_UINT), UInt16(PHOTOMETRIC_MINISBLACK), "uint32"),
            ("i16.tif", 1, 16, UInt16(SAMPLEFORMAT_INT), UInt16(PHOTOMETRIC_MINISBLACK), "int16"),
            ("f64.tif", 1, 64, UInt16(SAMPLEFORMAT_IEEEFP), UInt16(PHOTOMETRIC_MINISBLACK), "float64"),
        ]
        for (name, samples, bits, format, photometric, found) in cases {
            let path = scratch.path(name)
            try Self.writeRawTIFF(path, width: 4, height: 3, samples: samples, bits: bits, format: format, photometric: photometric)
            let error = try #require(Self.storageError { _ = try Self.open(path) }, "\(name)")
            guard case let .unsupported(file, feature) = error else { Issue.record("\(name): unexpected \(error)"); continue }
            #expect(file == "\(path) (page 0)")
            #expect(feature.contains(found), "\(name): \(feature)")
            if bits != 8 { #expect(feature.contains("uint8, uint16, float32"), "\(name): \(feature)") }
        }
    }

    @Test func readsOfTheWrongTypeOrOutsideTheVolume() throws {
        let scratch = try Scratch("tiff-reads")
        let path = scratch.path("v.tif")
        try Self.writeVolume(path, shape: Coordinate(2, 4, 4))
        let store = try Self.open(path)
        #expect(Self.storageError { _ = try store.read(Box(shape: Coordinate(1, 1, 1)), as: UInt16.self) }
            == .dataTypeMismatch(address: path, expected: "uint16", found: "uint8"))
        let outside = Box(offset: Coordinate(1, 2, 2), shape: Coordinate(2, 2, 2))
        #expect(Self.storageError { _ = try store.read(outside, as: UInt8.self) }
            == .outsideVolume(address: path, box: outside.description, shape: "2,4,4"))
    }

    @Test func writesThatCannotHappen() throws {
        let scratch = try Scratch("tiff-writes")
        let spec = VolumeSpec(shape: Coordinate(2, 4, 4), dataType: .uint8, chunkShape: Coordinate(1, 4, 4), codec: .raw)
        // A directory that cannot exist: its parent is a regular file.
        try "x".write(toFile: scratch.path("file"), atomically: true, encoding: .utf8)
        for path in [scratch.path("file/s/*.tif"), scratch.path("file/stack.tif")] {
            let error = try #require(Self.storageError { _ = try TIFFStore.create(StoreAddress(format: .tiff, path: path), spec: spec) })
            guard case let .unwritable(file, _) = error else { Issue.record("\(path): unexpected \(error)"); continue }
            #expect(file.hasPrefix(scratch.path("file")))
        }
        var wide = spec
        wide.dataType = .uint32
        let typeError = try #require(Self.storageError { _ = try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("w.tif")), spec: wide) })
        #expect("\(typeError)".contains("uint32") && "\(typeError)".contains("uint8, uint16, float32") && "\(typeError)".contains("w.tif"))
        var blosc = spec
        blosc.codec = .blosc(compressor: .lz4, level: 5, shuffle: .byte)
        #expect(Self.storageError { _ = try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("b.tif")), spec: blosc) } != nil)
        var zstd = spec
        zstd.codec = .zstd(level: 3)
        #expect(try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("z.tif")), spec: zstd).metadata.codec == "zstd")

        let store = try TIFFStore.create(StoreAddress(format: .tiff, path: scratch.path("ok/*.tif")), spec: spec)
        let partial = Volume<UInt8>(box: Box(shape: Coordinate(1, 2, 4)))
        #expect(Self.storageError { try store.write(partial) } == .notChunkAligned(address: scratch.path("ok/*.tif"), box: partial.box.description, chunks: "1,4,4"))
        #expect(Self.storageError { _ = try TIFFStore.open(StoreAddress(format: .zarr, path: scratch.path("x.zarr"))) } != nil)
    }

    @Test func sliceFilesWithSeveralPages() throws {
        let scratch = try Scratch("tiff-pages")
        try Self.writeVolume(scratch.path("d/a.tif"), shape: Coordinate(1, 4, 4))
        try Self.writeVolume(scratch.path("d/b.tif"), shape: Coordinate(2, 4, 4))
        let error = try #require(Self.storageError { _ = try Self.open(scratch.path("d/*.tif")) })
        guard case let .unsupported(file, _) = error else { Issue.record("unexpected \(error)"); return }
        #expect(file == scratch.path("d/b.tif"))
    }
}
