import CTIFF
import EMStorage
import EMVolume
import Foundation

/// Writes 2D pages (one z-section each) as strips, with the sample type, compression and
/// calibration tags of a volume. Holds one strip of scratch memory: libtiff may encode in
/// place (predictors), so the caller's plane is copied strip by strip, never modified.
struct TIFFPageWriter {
    /// Rows and columns of a page.
    let height: Int, width: Int
    let dataType: DataType
    let encoding: TIFFEncoding
    let calibration: TIFFCalibration
    private var scratch: [UInt8] = []

    init(height: Int, width: Int, dataType: DataType, encoding: TIFFEncoding, calibration: TIFFCalibration) {
        self.height = height
        self.width = width
        self.dataType = dataType
        self.encoding = encoding
        self.calibration = calibration
    }

    /// Bytes of one page.
    var planeBytes: Int { height * width * dataType.size }

    /// Rows per strip: the encoding's choice, else strips of about 256 KiB.
    var rowsPerStrip: Int { min(height, encoding.rowsPerStrip ?? max(1, (256 << 10) / (width * dataType.size))) }

    /// True when `pages` pages may not fit a classic TIFF's 32-bit offsets (judged on the
    /// uncompressed size, with room for the directories).
    func needsBigTIFF(pages: Int) -> Bool {
        Int64(planeBytes) * Int64(pages) + Int64(pages) * 4096 > Int64(UInt32.max) - (64 << 20)
    }

    /// Writes `plane` (`planeBytes`, native byte order) as the next page of `handle`, with
    /// `description` as its ImageDescription when given.
    ///
    /// - Throws: `StorageError.unwritable` naming the file when libtiff cannot encode or write.
    mutating func write(_ handle: TIFFHandle, plane: UnsafeRawPointer, description: String?) throws {
        try handle.set(.imageWidth, .u32(UInt32(width)))
        try handle.set(.imageLength, .u32(UInt32(height)))
        try handle.set(.bitsPerSample, .u16(UInt16(dataType.size * 8)))
        try handle.set(.sampleFormat, .u16(UInt16(dataType.isFloatingPoint ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT)))
        try handle.set(.samplesPerPixel, .u16(1))
        try handle.set(.photometric, .u16(UInt16(PHOTOMETRIC_MINISBLACK)))
        try handle.set(.planarConfig, .u16(UInt16(PLANARCONFIG_CONTIG)))
        try handle.set(.compression, .u16(encoding.compression.tagValue))
        if encoding.predictor {
            try handle.set(.predictor, .u16(UInt16(dataType.isFloatingPoint ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL)))
        }
        if let level = encoding.level {
            switch encoding.compression {
            case .deflate: try handle.set(.zipQuality, .int(level))
            case .zstd: try handle.set(.zstdLevel, .int(level))
            case .none, .lzw: break
            }
        }
        let stripRows = rowsPerStrip
        try handle.set(.rowsPerStrip, .u32(UInt32(stripRows)))
        let resolution = calibration.resolution
        try handle.set(.xResolution, .double(resolution.x))
        try handle.set(.yResolution, .double(resolution.y))
        try handle.set(.resolutionUnit, .u16(UInt16(RESUNIT_NONE)))
        if let description { try handle.set(.imageDescription, .string(description)) }
        try handle.set(.software, .string("emflow"))

        let rowBytes = width * dataType.size
        if scratch.count < stripRows * rowBytes { scratch = [UInt8](repeating: 0, count: stripRows * rowBytes) }
        for (strip, first) in stride(from: 0, to: height, by: stripRows).enumerated() {
            let bytes = min(stripRows, height - first) * rowBytes
            errno = 0
            let written = scratch.withUnsafeMutableBytes { buffer in
                buffer.baseAddress!.copyMemory(from: plane + first * rowBytes, byteCount: bytes)
                return TIFFWriteEncodedStrip(handle.tiff, UInt32(strip), buffer.baseAddress, tmsize_t(bytes))
            }
            guard written == bytes else { throw StorageError.unwritable(path: handle.path, reason: "strip \(strip): \(handle.lastError(errno: errno))") }
        }
        errno = 0
        guard TIFFWriteDirectory(handle.tiff) == 1 else {
            throw StorageError.unwritable(path: handle.path, reason: "cannot write the page directory: \(handle.lastError(errno: errno))")
        }
    }
}

/// Writes a TIFF file atomically: libtiff writes a temporary file in the target's directory,
/// which replaces the target by `rename(2)` only once complete, so readers never see a part.
enum AtomicTIFF {
    /// Runs `body` on a handle writing a temporary file, then renames it to `path`.
    static func write(to path: String, bigTIFF: Bool, _ body: (TIFFHandle) throws -> Void) throws {
        let (directory, name) = splitPath(path)
        let temporary = directory + "/" + AtomicFile.temporaryPrefix + name + "-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let handle = try TIFFHandle.create(temporary, bigTIFF: bigTIFF, reportingAs: path)
            try body(handle)
            try handle.finishWriting()
            guard rename(temporary, path) == 0 else {
                throw StorageError.unwritable(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// The directory (`.` when none) and last component of a path.
func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
}
