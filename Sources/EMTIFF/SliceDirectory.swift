import CTIFF
import EMStorage
import EMVolume
import Foundation

/// A volume stored as one single-page TIFF file per z-section, named by a `SlicePattern`.
///
/// Each write replaces whole section files atomically (temporary file + rename), so several
/// threads or processes may write distinct sections at once and readers never see a part.
/// Reads open the files they need, one libtiff handle per file and call.
final class SliceDirectory: TIFFSections {
    let pattern: SlicePattern
    let files: [String]
    let format: SectionFormat

    private init(pattern: SlicePattern, files: [String], format: SectionFormat) {
        self.pattern = pattern
        self.files = files
        self.format = format
    }

    /// Opens the files matching `pattern`, checking that each holds one page of the size and
    /// sample type of the first.
    ///
    /// - Throws: `StorageError` naming the pattern when nothing matches, or the first file
    ///   that is not a TIFF, has another size or type, or holds several pages.
    static func open(_ pattern: SlicePattern) throws -> SliceDirectory {
        let files = try pattern.matchingFiles()
        var format: SectionFormat?
        for file in files {
            let handle = try TIFFHandle.openForReading(file)
            let page = try TIFFPageLayout.current(handle, name: file)
            guard TIFFLastDirectory(handle.tiff) != 0 else {
                throw StorageError.unsupported(path: file, feature: "several pages in one slice file; a slice pattern expects one 2D page per file")
            }
            if let format {
                try page.checkMatches(format.reference, name: file, referenceName: format.referenceName)
            } else {
                format = SectionFormat(
                    reference: page, referenceName: file, calibration: TIFFCalibration.read(handle), fillValue: 0,
                    encoding: Result { try TIFFEncoding(matching: page, predictor: page.predictor != PREDICTOR_NONE, path: file) }
                        .mapError { $0 as? StorageError ?? .io(path: file, reason: "\($0)") })
            }
        }
        return SliceDirectory(pattern: pattern, files: files, format: format!)
    }

    /// Creates `depth` section files holding the fill value (so that the directory is a
    /// complete volume at once, which other processes can open), replacing files that match
    /// the pattern when `overwrite` is set.
    ///
    /// - Throws: `StorageError.unwritable` when matching files exist without `overwrite`, or
    ///   the directory cannot be created or written.
    static func create(_ pattern: SlicePattern, format: SectionFormat, depth: Int, overwrite: Bool) throws -> SliceDirectory {
        let names = try pattern.newFileNames(count: depth)
        do {
            try FileManager.default.createDirectory(atPath: pattern.directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError.unwritable(path: pattern.directory, reason: "cannot create the slice directory (\(error.localizedDescription))")
        }
        let existing = try pattern.matchingNames()
        if let first = existing.first {
            guard overwrite else {
                throw StorageError.unwritable(path: pattern.path(ofFile: first),
                                              reason: "\(existing.count) file(s) already match \(pattern.pattern); pass overwrite to replace them")
            }
            for name in existing {
                do { try FileManager.default.removeItem(atPath: pattern.path(ofFile: name)) } catch {
                    throw StorageError.unwritable(path: pattern.path(ofFile: name), reason: "cannot remove the old slice (\(error.localizedDescription))")
                }
            }
        }
        let store = SliceDirectory(pattern: pattern, files: names.map(pattern.path(ofFile:)), format: format)
        var plane = [UInt8](repeating: 0, count: format.planeBytes)
        plane.withUnsafeMutableBytes { format.fill($0.baseAddress!, rows: 1, columns: format.reference.height * format.reference.width, rowStride: 0) }
        var writer = try format.pageWriter()
        try plane.withUnsafeBytes { buffer in
            for z in 0..<depth { try store.write(slice: z, plane: buffer.baseAddress!, writer: &writer) }
        }
        return store
    }

    func read(slices: Range<Int>, rows: Range<Int>, columns: Range<Int>,
              into destination: UnsafeMutableRawPointer, sliceStride: Int, rowStride: Int) throws {
        var reader = TIFFPageReader()
        for z in slices {
            let handle = try TIFFHandle.openForReading(files[z])
            try format.readPage(handle, name: files[z], reader: &reader, rows: rows, columns: columns,
                                into: destination + (z - slices.lowerBound) * sliceStride, rowStride: rowStride)
        }
    }

    func write(slice: Int, plane: UnsafeRawPointer) throws {
        var writer = try format.pageWriter()
        try write(slice: slice, plane: plane, writer: &writer)
    }

    private func write(slice: Int, plane: UnsafeRawPointer, writer: inout TIFFPageWriter) throws {
        let description = format.calibration.imageJDescription(images: 1)
        try AtomicTIFF.write(to: files[slice], bigTIFF: writer.needsBigTIFF(pages: 1)) { handle in
            try writer.write(handle, plane: plane, description: description)
        }
    }

    /// Every write is already complete and visible.
    func flush() throws {}

    func bytesOnDisk() throws -> Int64 { files.reduce(0) { $0 + fileSize($1) } }
}
