import EMStorage
import EMVolume

/// A volume in TIFF: a multi-page file (`stack.tif`, one page per z-section) or a directory
/// of 2D slices given as a glob (`slices/*.tif`, `slices/z*.tiff`; sorted naturally, so
/// `z2` comes before `z10`).
///
/// Pages hold one grayscale channel of uint8, uint16 or float32, in strips or tiles,
/// uncompressed or in any codec libtiff decodes (LZW, deflate, zstd, packbits...). emflow
/// writes strips, uncompressed or LZW, deflate or zstd. A chunk is one whole section
/// (`chunkShape` = 1 x height x width), so writes cover whole z-sections. Voxel size and
/// origin travel as resolution tags and an ImageJ description (see `TIFFCalibration`'s
/// rules), which ImageJ/Fiji and tifffile read.
///
/// - Slice directories: each section file is replaced atomically; new volumes name their
///   files by the pattern's `*` replaced with the zero-padded z index, at least 4 digits
///   (`slices/*.tif` -> `slices/0000.tif`, `slices/0001.tif`, ...), and `create` writes
///   every section with the fill value at once so the directory is always a whole volume.
///   Several threads and processes may write distinct sections.
/// - Multi-page files: writes are staged per section beside the file and assembled at
///   `flush()` (atomically, by rename). Call `flush()` after writing; until then reads of
///   this store see the writes but other readers of the file do not.
///
/// Thread-safe; each read opens its own libtiff handles.
public final class TIFFStore: VolumeStore, @unchecked Sendable {
    /// The address this store was opened at.
    public let address: StoreAddress
    /// Shape, type, chunking (one section) and calibration of the volume.
    public let metadata: VolumeMetadata
    private let sections: any TIFFSections

    private init(address: StoreAddress, sections: any TIFFSections, format: SectionFormat, depth: Int, codec: String) {
        self.address = address
        self.sections = sections
        let page = format.reference
        metadata = VolumeMetadata(shape: Coordinate(depth, page.height, page.width), dataType: page.dataType,
                                  chunkShape: Coordinate(1, page.height, page.width),
                                  voxelSize: format.calibration.voxelSize, origin: format.calibration.origin,
                                  codec: codec, fillValue: format.fillValue)
    }

    /// The files holding the volume in z order: the section files of a slice directory, or
    /// the one multi-page file.
    public var files: [String] { sections.files }

    /// Opens an existing TIFF volume.
    ///
    /// - Throws: `StorageError` naming the file and what was expected: no file matches the
    ///   pattern, a file is not a TIFF or is truncated, slices differ in size or type, a page
    ///   has several channels (RGB, palette) or an unsupported sample type.
    public static func open(_ address: StoreAddress) throws -> TIFFStore {
        try checkAddress(address)
        if SlicePattern.isPattern(address.path) {
            guard address.selection.isEmpty else {
                throw StorageError.badAddress(address: address.description, expected: "a slice directory (one file per section) has no channels to choose: drop \(address.selection.suffix)")
            }
            let directory = try SliceDirectory.open(SlicePattern(address.path))
            return TIFFStore(address: address, sections: directory, format: directory.format, depth: directory.files.count,
                             codec: TIFFPageLayout.codecName(directory.format.reference.compression))
        }
        let stack = try StackFile.open(address.path, address: address.description, selection: address.selection)
        return TIFFStore(address: address, sections: stack, format: stack.format, depth: stack.depth,
                         codec: TIFFPageLayout.codecName(stack.format.reference.compression))
    }

    /// Creates a TIFF volume. `spec.chunkShape` is ignored: a chunk is always one section.
    /// The codec maps raw -> none, gzip/zlib -> deflate, zstd -> zstd; `options` can choose
    /// LZW, a predictor and the strip height instead.
    ///
    /// - Throws: `StorageError.unsupported` for types other than uint8, uint16 and float32 or
    ///   a codec TIFF cannot hold (blosc); `StorageError.unwritable` when the volume exists
    ///   and `overwrite` is false, or the directory cannot be written.
    public static func create(_ address: StoreAddress, spec: VolumeSpec, overwrite: Bool = false,
                              options: TIFFOptions = TIFFOptions()) throws -> TIFFStore {
        try checkAddress(address)
        let name = address.description
        try spec.validate(for: name)
        guard TIFFPageLayout.supportedTypes.contains(spec.dataType) else {
            throw StorageError.unsupported(path: name, feature: "data type \(spec.dataType) in TIFF; supported: "
                                           + TIFFPageLayout.supportedTypes.map(\.rawValue).joined(separator: ", "))
        }
        let format = try SectionFormat(spec: spec, options: options, address: name)
        let codec = try format.encoding.get().codecName
        let sections: any TIFFSections
        if SlicePattern.isPattern(address.path) {
            sections = try SliceDirectory.create(SlicePattern(address.path), format: format, depth: spec.shape.z, overwrite: overwrite)
        } else {
            sections = try StackFile.create(address.path, spec: spec, options: options, overwrite: overwrite, address: name)
        }
        return TIFFStore(address: address, sections: sections, format: format, depth: spec.shape.z, codec: codec)
    }

    private static func checkAddress(_ address: StoreAddress) throws {
        guard address.format == .tiff, address.key.isEmpty else {
            throw StorageError.badAddress(address: address.description, expected: "a TIFF address: stack.tif or 'slices/*.tif' (no key)")
        }
    }

    /// Reads `box` (any box; parts outside the volume follow `outside`), decoding only the
    /// sections and strips or tiles it overlaps.
    public func readBytes(_ box: Box, into buffer: UnsafeMutableRawBufferPointer, outside: OutsidePolicy) throws {
        try checkReadable(box, outside: outside)
        let elementSize = metadata.dataType.size
        precondition(buffer.count == box.voxelCount * elementSize,
                     "read buffer holds \(buffer.count) bytes, box \(box) needs \(box.voxelCount * elementSize)")
        guard let inside = box.intersection(metadata.bounds) else {
            if case let .fill(value) = outside, !box.isEmpty {
                fillRows(buffer.baseAddress!, rows: 1, columns: box.voxelCount, rowStride: 0, value: value, dataType: metadata.dataType)
            }
            return
        }
        if inside != box, case let .fill(value) = outside {
            fillRows(buffer.baseAddress!, rows: 1, columns: box.voxelCount, rowStride: 0, value: value, dataType: metadata.dataType)
        }
        let local = inside.offset - box.offset
        let rowStride = box.shape.x * elementSize
        let sliceStride = box.shape.y * rowStride
        try sections.read(slices: inside.offset.z..<inside.end.z, rows: inside.offset.y..<inside.end.y,
                          columns: inside.offset.x..<inside.end.x,
                          into: buffer.baseAddress! + local.z * sliceStride + local.y * rowStride + local.x * elementSize,
                          sliceStride: sliceStride, rowStride: rowStride)
    }

    /// Writes whole sections (`box` spans the full height and width).
    public func writeBytes(_ box: Box, from buffer: UnsafeRawBufferPointer) throws {
        try checkWritable(box, bufferBytes: buffer.count)
        let planeBytes = metadata.shape.y * metadata.shape.x * metadata.dataType.size
        for z in box.offset.z..<box.end.z {
            try sections.write(slice: z, plane: buffer.baseAddress! + (z - box.offset.z) * planeBytes)
        }
    }

    /// Makes every write visible: assembles a multi-page file from its staged sections
    /// (nothing to do for slice directories, whose writes are immediate).
    public func flush() throws { try sections.flush() }

    /// Bytes of the file(s), staged sections included.
    public func bytesOnDisk() throws -> Int64 { try sections.bytesOnDisk() }
}
