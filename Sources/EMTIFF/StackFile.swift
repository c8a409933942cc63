import CTIFF
import EMStorage
import EMVolume
import Foundation

/// A volume stored as the pages of one multi-page TIFF file, one page per z-section.
///
/// Writes may come in any order: each section is staged as a raw file in a hidden sibling
/// directory (`.<name>.emflow-staging/`, written atomically), and `flush()` assembles the
/// final file from staged sections, pages of the previous file and the fill value, into a
/// temporary file that replaces the target by rename. A killed process never leaves a
/// half-written stack, and its staged sections are picked up by the next store opened at
/// the same path (reads see them; the next flush writes them). Memory stays one section.
///
/// Within one process, reads and writes run in parallel and `flush` excludes both. Several
/// processes may stage sections, but only one should flush.
final class StackFile: TIFFSections, @unchecked Sendable {
    let path: String
    let format: SectionFormat
    let depth: Int
    private let staging: String
    private let lock = ReadWriteLock()
    /// Directory offsets of the final file's pages, nil while it does not exist (guarded by `lock`).
    private var pageOffsets: [UInt64]?
    /// The channel and time point this store reads of a file with more (read-only then: a
    /// flush would rewrite the file with these sections only).
    private let hyperstack: (layout: TIFFHyperstack, selection: AxisSelection)?

    var files: [String] { [path] }

    private init(path: String, format: SectionFormat, depth: Int, pageOffsets: [UInt64]?,
                 hyperstack: (layout: TIFFHyperstack, selection: AxisSelection)? = nil) {
        self.path = path
        self.format = format
        self.depth = depth
        self.pageOffsets = pageOffsets
        self.hyperstack = hyperstack
        staging = Self.stagingDirectory(of: path)
    }

    /// The hidden directory beside `path` where sections wait for the next flush.
    static func stagingDirectory(of path: String) -> String {
        let (directory, name) = splitPath(path)
        return directory + "/.\(name).emflow-staging"
    }

    /// What `create` records in the staging directory, so that a volume created but not yet
    /// flushed can be opened (by another process, or after a crash).
    struct Manifest: Codable {
        var spec: VolumeSpec
        var options: TIFFOptions
    }

    private static func manifestPath(_ staging: String) -> String { staging + "/manifest.json" }

    private func stagedPath(_ slice: Int) -> String { staging + "/" + String(format: "%08d.raw", slice) }

    // MARK: Opening and creating

    /// Opens an existing stack, or a created one not yet flushed (from its staging manifest).
    ///
    /// - Throws: `StorageError` naming the file (and page) when it is missing, not a TIFF, or
    ///   has pages of different sizes or types.
    /// A file with channels or time points (OME-TIFF, ImageJ hyperstack) opens one channel
    /// and time point, which `selection` chooses, read-only.
    static func open(_ path: String, address: String, selection: AxisSelection = AxisSelection()) throws -> StackFile {
        if FileManager.default.fileExists(atPath: path) {
            let scan = try scanPages(path)
            let encoding = Result { try TIFFEncoding(matching: scan.first, predictor: scan.first.predictor != PREDICTOR_NONE, path: path) }
                .mapError { $0 as? StorageError ?? .io(path: path, reason: "\($0)") }
            let format = SectionFormat(reference: scan.first, referenceName: "\(path) (page 0)", calibration: scan.calibration,
                                       fillValue: 0, encoding: encoding)
            if let layout = scan.hyperstack {
                let offsets = try layout.pages(for: selection, address: address).map { scan.offsets[$0] }
                return StackFile(path: path, format: format, depth: offsets.count, pageOffsets: offsets, hyperstack: (layout, selection))
            }
            try checkSingleChannel(selection, address: address)
            return StackFile(path: path, format: format, depth: scan.offsets.count, pageOffsets: scan.offsets)
        }
        try checkSingleChannel(selection, address: address)
        let manifestFile = manifestPath(stagingDirectory(of: path))
        guard let data = FileManager.default.contents(atPath: manifestFile) else {
            throw StorageError.missing(path: path, what: "TIFF file")
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            throw StorageError.malformedMetadata(path: manifestFile, key: "spec", expected: "the JSON emflow writes when it creates a TIFF stack")
        }
        let format = try SectionFormat(spec: manifest.spec, options: manifest.options, address: address)
        return StackFile(path: path, format: format, depth: manifest.spec.shape.z, pageOffsets: nil)
    }

    /// Starts a new stack at `path`: nothing is written but the staging manifest until the
    /// first flush, which writes every section (the fill value where none was written).
    ///
    /// - Throws: `StorageError.unwritable` when the file exists without `overwrite`, or the
    ///   directory cannot be written.
    static func create(_ path: String, spec: VolumeSpec, options: TIFFOptions, overwrite: Bool, address: String) throws -> StackFile {
        let format = try SectionFormat(spec: spec, options: options, address: address)
        let staging = stagingDirectory(of: path)
        if FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: staging) {
            guard overwrite else {
                guard !FileManager.default.fileExists(atPath: path) else {
                    throw StorageError.unwritable(path: path, reason: "already exists; pass overwrite to replace it")
                }
                let staged = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
                let bytes = staged.reduce(Int64(0)) { $0 + fileSize(staging + "/" + $1) }
                throw StorageError.unwritable(path: path, reason: "an interrupted write left \(staged.count) staged files (\(bytes >> 20) MiB) in \(staging); run the command that wrote it again to finish it, or pass overwrite to discard them")
            }
            for old in [path, staging] where FileManager.default.fileExists(atPath: old) {
                do { try FileManager.default.removeItem(atPath: old) } catch {
                    throw StorageError.unwritable(path: old, reason: "cannot remove the old volume (\(error.localizedDescription))")
                }
            }
        }
        try JSONFiles.write(Manifest(spec: spec, options: options), to: manifestPath(staging))
        return StackFile(path: path, format: format, depth: spec.shape.z, pageOffsets: nil)
    }

    /// Refuses a selection past the only channel and time point of a plain stack.
    private static func checkSingleChannel(_ selection: AxisSelection, address: String) throws {
        guard (selection.channel ?? 0) == 0, (selection.timePoint ?? 0) == 0 else {
            throw StorageError.badAddress(address: address, expected: "this TIFF has one channel and one time point (its description states no others), so only c=0 and t=0 exist")
        }
    }

    /// Walks the page directories of `path`, checking every page against the first.
    private static func scanPages(_ path: String) throws -> (offsets: [UInt64], first: TIFFPageLayout, calibration: TIFFCalibration, hyperstack: TIFFHyperstack?) {
        let handle = try TIFFHandle.openForReading(path)
        let first = try TIFFPageLayout.current(handle, name: "\(path) (page 0)")
        let calibration = TIFFCalibration.read(handle)
        let description = handle.string(.imageDescription)
        let imageJImages = TIFFCalibration.imageJProperties(description)?["images"].flatMap { Int($0) }
        var offsets = [TIFFCurrentDirOffset(handle.tiff)]
        while TIFFReadDirectory(handle.tiff) == 1 {
            let name = "\(path) (page \(offsets.count))"
            try TIFFPageLayout.current(handle, name: name).checkMatches(first, name: name, referenceName: "\(path) (page 0)")
            offsets.append(TIFFCurrentDirOffset(handle.tiff))
        }
        guard handle.errorCount == 0 else {
            throw StorageError.corruptChunk(path: "\(path) (page \(offsets.count))", reason: "the page directory does not read (truncated or damaged file?): \(handle.lastError)")
        }
        if let images = imageJImages, images > offsets.count, offsets.count == 1 {
            throw StorageError.unsupported(path: path, feature: "an ImageJ stack of \(images) images stored behind a single page directory "
                                           + "(ImageJ's layout for files over 4 GB); resave it as a BigTIFF stack or a directory of slices")
        }
        return (offsets, first, calibration, try TIFFHyperstack.read(description: description, pageCount: offsets.count, path: path))
    }

    // MARK: Reading and writing

    func read(slices: Range<Int>, rows: Range<Int>, columns: Range<Int>,
              into destination: UnsafeMutableRawPointer, sliceStride: Int, rowStride: Int) throws {
        try lock.shared {
            var handle: TIFFHandle?
            var reader = TIFFPageReader()
            for z in slices {
                let target = destination + (z - slices.lowerBound) * sliceStride
                try readSection(z, rows: rows, columns: columns, into: target, rowStride: rowStride, handle: &handle, reader: &reader)
            }
        }
    }

    /// Reads one section: its staged write when there is one, else its page of the final
    /// file, else the fill value. `handle` opens the final file on first use.
    private func readSection(_ z: Int, rows: Range<Int>, columns: Range<Int>, into destination: UnsafeMutableRawPointer,
                             rowStride: Int, handle: inout TIFFHandle?, reader: inout TIFFPageReader) throws {
        if try readStaged(z, rows: rows, columns: columns, into: destination, rowStride: rowStride) { return }
        guard let offsets = pageOffsets else {
            format.fill(destination, rows: rows.count, columns: columns.count, rowStride: rowStride)
            return
        }
        let file = try handle ?? TIFFHandle.openForReading(path)
        handle = file
        let name = "\(path) (page \(z))"
        guard TIFFSetSubDirectory(file.tiff, offsets[z]) == 1 else {
            throw StorageError.corruptChunk(path: name, reason: "cannot read the page directory: \(file.lastError)")
        }
        try format.readPage(file, name: name, reader: &reader, rows: rows, columns: columns, into: destination, rowStride: rowStride)
    }

    /// Reads a staged section's rows and columns; false when the section is not staged.
    private func readStaged(_ z: Int, rows: Range<Int>, columns: Range<Int>, into destination: UnsafeMutableRawPointer, rowStride: Int) throws -> Bool {
        let file = stagedPath(z)
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return false }
            throw StorageError.io(path: file, reason: "cannot open the staged section: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == format.planeBytes else {
            throw StorageError.corruptChunk(path: file, reason: "a staged section must hold \(format.planeBytes) bytes, found \(info.st_size)")
        }
        let elementSize = format.reference.dataType.size, rowBytes = format.reference.width * elementSize
        let count = columns.count * elementSize
        for row in rows {
            let got = pread(fd, destination + (row - rows.lowerBound) * rowStride, count, off_t(row * rowBytes + columns.lowerBound * elementSize))
            guard got == count else {
                throw StorageError.corruptChunk(path: file, reason: "short read of row \(row): \(got < 0 ? String(cString: strerror(errno)) : "\(got) of \(count) bytes")")
            }
        }
        return true
    }

    func write(slice: Int, plane: UnsafeRawPointer) throws {
        if let hyperstack {
            throw StorageError.unwritable(path: path, reason: "holds \(hyperstack.layout.channels) channel(s) and \(hyperstack.layout.timePoints) time point(s); one of them (\(hyperstack.selection.suffix)) is read-only in emflow: write the result to a new file")
        }
        try lock.shared {
            do { try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true) } catch {
                throw StorageError.unwritable(path: staging, reason: "cannot create the staging directory (\(error.localizedDescription))")
            }
            try AtomicFile.write(UnsafeRawBufferPointer(start: plane, count: format.planeBytes), to: stagedPath(slice), createDirectories: false)
        }
    }

    // MARK: Flushing

    func flush() throws {
        try lock.exclusive {
            let stagedNames = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
            guard pageOffsets == nil || stagedNames.contains(where: { $0.hasSuffix(".raw") }) else {
                return
            }
            try assemble()
            for name in stagedNames {
                try? FileManager.default.removeItem(atPath: staging + "/" + name)
            }
            rmdir(staging)
            pageOffsets = try Self.scanPages(path).offsets
        }
    }

    /// Writes the final file section by section into a temporary file, then renames it.
    private func assemble() throws {
        var writer = try format.pageWriter()
        var previous: TIFFHandle?
        var reader = TIFFPageReader()
        var plane = [UInt8](repeating: 0, count: format.planeBytes)
        let (rows, columns) = (0..<format.reference.height, 0..<format.reference.width)
        let rowStride = format.reference.width * format.reference.dataType.size
        let description = format.calibration.imageJDescription(images: depth)
        try AtomicTIFF.write(to: path, bigTIFF: writer.needsBigTIFF(pages: depth)) { output in
            for z in 0..<depth {
                try plane.withUnsafeMutableBytes { buffer in
                    try readSection(z, rows: rows, columns: columns, into: buffer.baseAddress!, rowStride: rowStride,
                                    handle: &previous, reader: &reader)
                }
                try plane.withUnsafeBytes { buffer in
                    try writer.write(output, plane: buffer.baseAddress!, description: z == 0 ? description : nil)
                }
            }
        }
    }

    func bytesOnDisk() -> Int64 {
        lock.shared {
            let staged = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
            return staged.reduce(fileSize(path)) { $0 + fileSize(staging + "/" + $1) }
        }
    }
}
