import CTIFF
import EMStorage
import EMVolume

/// Where a TIFF volume's z-sections live: one file per section (`SliceDirectory`) or the
/// pages of one file (`StackFile`). Implementations are safe to call from several threads.
protocol TIFFSections: AnyObject, Sendable {
    /// The files holding the sections, in z order (one file for a stack).
    var files: [String] { get }

    /// Decodes rows `rows` and columns `columns` of sections `slices` into `destination`,
    /// section `slices.lowerBound + i` at `i * sliceStride` bytes, rows `rowStride` apart.
    func read(slices: Range<Int>, rows: Range<Int>, columns: Range<Int>,
              into destination: UnsafeMutableRawPointer, sliceStride: Int, rowStride: Int) throws

    /// Writes section `slice` from a whole plane (height x width, native byte order).
    func write(slice: Int, plane: UnsafeRawPointer) throws

    /// Makes every write visible in the final file(s).
    func flush() throws

    /// Bytes the sections occupy on disk, staged writes included.
    func bytesOnDisk() throws -> Int64
}

/// What every section of a volume shares: page size and sample type, calibration, the
/// settings new pages are written with, and the value of sections never written.
struct SectionFormat: Sendable {
    /// Size and sample type every page must have.
    var reference: TIFFPageLayout
    /// The page `reference` came from, for messages (the volume's address when created).
    var referenceName: String
    var calibration: TIFFCalibration
    var fillValue: VoxelValue
    /// How new pages are written, or why they cannot be (an opened file in a codec emflow
    /// reads but does not write).
    var encoding: Result<TIFFEncoding, StorageError>

    /// Bytes of one section.
    var planeBytes: Int { reference.height * reference.width * reference.dataType.size }

    /// A writer for new pages.
    func pageWriter() throws -> TIFFPageWriter {
        TIFFPageWriter(height: reference.height, width: reference.width, dataType: reference.dataType,
                       encoding: try encoding.get(), calibration: calibration)
    }

    /// Reads the current page of `handle` into a region after checking it matches `reference`.
    func readPage(_ handle: TIFFHandle, name: String, reader: inout TIFFPageReader, rows: Range<Int>, columns: Range<Int>,
                  into destination: UnsafeMutableRawPointer, rowStride: Int) throws {
        let page = try TIFFPageLayout.current(handle, name: name)
        try page.checkMatches(reference, name: name, referenceName: referenceName)
        try reader.read(handle, layout: page, name: name, rows: rows, columns: columns, into: destination, rowStride: rowStride)
    }

    /// Fills a region with the fill value (sections never written).
    func fill(_ destination: UnsafeMutableRawPointer, rows: Int, columns: Int, rowStride: Int) {
        fillRows(destination, rows: rows, columns: columns, rowStride: rowStride, value: fillValue, dataType: reference.dataType)
    }
}

extension SectionFormat {
    /// The format of a new volume: pages of `spec`'s size and type, written as `spec` and
    /// `options` say.
    ///
    /// - Throws: `StorageError.unsupported` for a codec TIFF cannot hold.
    init(spec: VolumeSpec, options: TIFFOptions, address: String) throws {
        let encoding = try TIFFEncoding(codec: spec.codec, options: options, path: address)
        reference = TIFFPageLayout(width: spec.shape.x, height: spec.shape.y, dataType: spec.dataType,
                                   compression: encoding.compression.tagValue, tiling: .strips(rows: spec.shape.y),
                                   predictor: UInt16(encoding.predictor ? PREDICTOR_HORIZONTAL : PREDICTOR_NONE))
        referenceName = address
        calibration = TIFFCalibration(voxelSize: spec.voxelSize, origin: spec.origin)
        fillValue = spec.fillValue
        self.encoding = .success(encoding)
    }
}
