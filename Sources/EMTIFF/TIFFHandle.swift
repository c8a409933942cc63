import CTIFF
import EMStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One open libtiff handle with its own error collector. libtiff handles are not thread-safe:
/// a handle belongs to one call on one thread, and is closed when released.
final class TIFFHandle {
    /// The file as users name it (for messages).
    let path: String
    /// The libtiff handle.
    let tiff: OpaquePointer
    private let errors: UnsafeMutablePointer<emf_tiff_errors>
    private var isClosed = false

    private init(path: String, tiff: OpaquePointer, errors: UnsafeMutablePointer<emf_tiff_errors>) {
        self.path = path
        self.tiff = tiff
        self.errors = errors
    }

    deinit {
        if !isClosed { TIFFClose(tiff) }
        errors.deallocate()
    }

    private static func makeErrors() -> UnsafeMutablePointer<emf_tiff_errors> {
        let errors = UnsafeMutablePointer<emf_tiff_errors>.allocate(capacity: 1)
        errors.initialize(to: emf_tiff_errors())
        return errors
    }

    /// Opens an existing file for reading. The descriptor is opened first, so a file replaced
    /// or removed afterwards stays readable through this handle.
    ///
    /// - Throws: `StorageError.missing` when the file does not exist, `StorageError.io` when
    ///   it is not a readable TIFF (naming the file and libtiff's reason).
    static func openForReading(_ path: String) throws -> TIFFHandle {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw StorageError.missing(path: path, what: "TIFF file") }
            throw StorageError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw StorageError.io(path: path, reason: "is a directory, expected a TIFF file")
        }
        let errors = makeErrors()
        // "m": no memory mapping, so a file truncated by someone else mid-read gives an error, not SIGBUS.
        guard let tiff = emf_tiff_fdopen(fd, path, "rm", errors) else {
            let reason = errors.pointee.count > 0 ? message(errors) : "libtiff could not open it"
            errors.deallocate()
            // On failure libtiff leaves the descriptor to the caller.
            close(fd)
            throw StorageError.io(path: path, reason: "not a readable TIFF file (expected TIFF or BigTIFF): \(reason)")
        }
        return TIFFHandle(path: path, tiff: tiff, errors: errors)
    }

    /// Creates (truncates) `file` for writing; `bigTIFF` selects 64-bit offsets. `path` names
    /// the final file in messages when `file` is a temporary one.
    static func create(_ file: String, bigTIFF: Bool, reportingAs path: String) throws -> TIFFHandle {
        let errors = makeErrors()
        guard let tiff = emf_tiff_open(file, bigTIFF ? "w8" : "w", errors) else {
            let reason = errors.pointee.count > 0 ? message(errors) : String(cString: strerror(errno))
            errors.deallocate()
            throw StorageError.unwritable(path: path, reason: reason)
        }
        return TIFFHandle(path: path, tiff: tiff, errors: errors)
    }

    private static func message(_ errors: UnsafeMutablePointer<emf_tiff_errors>) -> String {
        withUnsafeBytes(of: errors.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// How many errors libtiff reported on this handle so far.
    var errorCount: Int { Int(errors.pointee.count) }

    /// libtiff's last error on this handle, or a generic phrase when it reported none.
    var lastError: String {
        errors.pointee.count > 0 ? Self.message(errors) : "libtiff reported a failure without a message"
    }

    /// `lastError` with the system's reason for a failed write (`errno` read right after the
    /// call): libtiff says "Write error at scanline 768" where the cause is a full disk.
    func lastError(errno code: Int32) -> String {
        code == 0 ? lastError : "\(lastError) (\(String(cString: strerror(code))))"
    }

    /// Flushes and closes a handle opened for writing.
    ///
    /// - Throws: `StorageError.unwritable` when libtiff cannot finish the file.
    func finishWriting() throws {
        errno = 0
        let flushed = TIFFFlush(tiff)
        let code = errno
        TIFFClose(tiff)
        isClosed = true
        guard flushed == 1, errors.pointee.count == 0 else { throw StorageError.unwritable(path: path, reason: lastError(errno: code)) }
    }

    // MARK: Tags

    /// A 16-bit tag of the current directory, or nil when absent.
    func u16(_ tag: TIFFTag) -> UInt16? {
        var value: UInt16 = 0
        return emf_tiff_get_u16(tiff, tag.rawValue, &value) == 1 ? value : nil
    }

    /// A 16-bit tag of the current directory, or its TIFF default.
    func u16Defaulted(_ tag: TIFFTag) -> UInt16? {
        var value: UInt16 = 0
        return emf_tiff_get_u16_defaulted(tiff, tag.rawValue, &value) == 1 ? value : nil
    }

    /// A 32-bit tag of the current directory, or nil when absent.
    func u32(_ tag: TIFFTag) -> UInt32? {
        var value: UInt32 = 0
        return emf_tiff_get_u32(tiff, tag.rawValue, &value) == 1 ? value : nil
    }

    /// A 32-bit tag of the current directory, or its TIFF default.
    func u32Defaulted(_ tag: TIFFTag) -> UInt32? {
        var value: UInt32 = 0
        return emf_tiff_get_u32_defaulted(tiff, tag.rawValue, &value) == 1 ? value : nil
    }

    /// A rational tag (libtiff returns it as float), or nil when absent.
    func float(_ tag: TIFFTag) -> Float? {
        var value: Float = 0
        return emf_tiff_get_float(tiff, tag.rawValue, &value) == 1 ? value : nil
    }

    /// An ASCII tag, or nil when absent.
    func string(_ tag: TIFFTag) -> String? {
        var value: UnsafePointer<CChar>?
        guard emf_tiff_get_string(tiff, tag.rawValue, &value) == 1, let value else { return nil }
        return String(cString: value)
    }

    /// Sets a tag of the directory being written.
    func set(_ tag: TIFFTag, _ value: TIFFValue) throws {
        let ok: Int32
        switch value {
        case let .u16(v): ok = emf_tiff_set_u16(tiff, tag.rawValue, v)
        case let .u32(v): ok = emf_tiff_set_u32(tiff, tag.rawValue, v)
        case let .int(v): ok = emf_tiff_set_int(tiff, tag.rawValue, Int32(v))
        case let .double(v): ok = emf_tiff_set_double(tiff, tag.rawValue, v)
        case let .string(v): ok = v.withCString { emf_tiff_set_string(tiff, tag.rawValue, $0) }
        }
        guard ok == 1 else { throw StorageError.unwritable(path: path, reason: "cannot set TIFF tag \(tag): \(lastError)") }
    }
}

/// A value for `TIFFHandle.set`, typed as libtiff expects it for the tag.
enum TIFFValue {
    case u16(UInt16), u32(UInt32), int(Int), double(Double), string(String)
}

/// The TIFF tags emflow reads and writes.
enum TIFFTag: UInt32 {
    case imageWidth = 256, imageLength = 257, bitsPerSample = 258, compression = 259
    case photometric = 262, imageDescription = 270, samplesPerPixel = 277, rowsPerStrip = 278
    case xResolution = 282, yResolution = 283, planarConfig = 284, resolutionUnit = 296
    case software = 305, predictor = 317, tileWidth = 322, tileLength = 323, sampleFormat = 339
    /// SGI's volumetric extension: a page that is a stack of `ImageDepth` sections.
    case imageDepth = 32997
    /// libtiff pseudo-tags (codec settings, never stored in the file).
    case zipQuality = 65557, zstdLevel = 65564
}
