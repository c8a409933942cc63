import CTIFF
import EMStorage
import EMVolume

/// How `TIFFStore.create` writes TIFF pages, beyond what a `VolumeSpec` says.
public struct TIFFOptions: Hashable, Codable, Sendable {
    /// The TIFF compression schemes emflow writes.
    public enum Compression: String, Hashable, Codable, Sendable, CaseIterable {
        /// No compression (TIFF Compression 1).
        case none
        /// Lempel-Ziv-Welch (TIFF Compression 5), readable by every TIFF reader.
        case lzw
        /// Deflate (zlib; TIFF Compression 8, "Adobe deflate").
        case deflate
        /// Zstandard (TIFF Compression 50000), when libtiff was built with it.
        case zstd
    }

    /// Compression to write; nil derives it from the spec's codec: raw -> none, gzip and
    /// zlib -> deflate at the codec's level, zstd -> zstd at its level (blosc has no TIFF
    /// equivalent and is refused).
    public var compression: Compression?
    /// Applies a predictor before compression: horizontal differencing (Predictor 2) for
    /// integer samples, floating-point (Predictor 3) for float32. Ignored without compression.
    public var predictor: Bool
    /// Rows per strip; nil chooses strips of about 256 KiB.
    public var rowsPerStrip: Int?

    /// Creates options; the defaults take everything from the volume spec.
    public init(compression: Compression? = nil, predictor: Bool = false, rowsPerStrip: Int? = nil) {
        self.compression = compression
        self.predictor = predictor
        self.rowsPerStrip = rowsPerStrip
    }
}

/// The resolved settings for writing pages: compression, level, predictor, strip height.
struct TIFFEncoding: Equatable {
    var compression: TIFFOptions.Compression
    /// Codec level (deflate 1-9, zstd 1-22), nil for the library default.
    var level: Int?
    var predictor: Bool
    var rowsPerStrip: Int?

    /// The name reported as `VolumeMetadata.codec`.
    var codecName: String { TIFFPageLayout.codecName(compression.tagValue) }

    /// Resolves `options` against the spec's `codec` for the store at `path`.
    ///
    /// - Throws: `StorageError.unsupported` for blosc, or zstd when this libtiff lacks it.
    init(codec: Codec, options: TIFFOptions, path: String) throws {
        var level: Int?
        let fromCodec: TIFFOptions.Compression
        switch codec {
        case .raw: fromCodec = .none
        case let .gzip(codecLevel), let .zlib(codecLevel):
            fromCodec = .deflate
            level = min(max(codecLevel, 1), 9)
        case let .zstd(codecLevel):
            fromCodec = .zstd
            level = min(max(codecLevel, 1), 22)
        case .blosc:
            if options.compression == nil {
                throw StorageError.unsupported(path: path, feature: "codec \(codec) in TIFF; TIFF writes raw, gzip/zlib (deflate), zstd, or lzw via TIFFOptions")
            }
            fromCodec = .none
        }
        let compression = options.compression ?? fromCodec
        if compression != fromCodec { level = nil }
        try self.init(compression: compression, level: level, predictor: options.predictor, rowsPerStrip: options.rowsPerStrip, path: path)
    }

    /// Settings from parts, checking that this libtiff encodes `compression`.
    init(compression: TIFFOptions.Compression, level: Int?, predictor: Bool, rowsPerStrip: Int?, path: String) throws {
        self.compression = compression
        self.level = level
        self.predictor = predictor && compression != .none
        self.rowsPerStrip = rowsPerStrip.map { max($0, 1) }
        guard TIFFIsCODECConfigured(compression.tagValue) == 1 else {
            throw StorageError.unsupported(path: path, feature: "\(compression) compression: this libtiff was built without it")
        }
    }

    /// Settings that rewrite pages like an existing `page` (same compression and predictor).
    ///
    /// - Throws: `StorageError.unsupported` when emflow cannot write that compression.
    init(matching page: TIFFPageLayout, predictor: Bool, path: String) throws {
        guard let compression = TIFFOptions.Compression.allCases.first(where: {
            $0.tagValue == page.compression || ($0 == .deflate && page.compression == COMPRESSION_DEFLATE)
        }) else {
            throw StorageError.unsupported(path: path, feature: "writing \(TIFFPageLayout.codecName(page.compression)) compression; "
                                           + "emflow writes \(TIFFOptions.Compression.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try self.init(compression: compression, level: nil, predictor: predictor, rowsPerStrip: nil, path: path)
    }
}

extension TIFFOptions.Compression {
    /// The TIFF Compression tag value written for this scheme.
    var tagValue: UInt16 {
        switch self {
        case .none: return UInt16(COMPRESSION_NONE)
        case .lzw: return UInt16(COMPRESSION_LZW)
        case .deflate: return UInt16(COMPRESSION_ADOBE_DEFLATE)
        case .zstd: return UInt16(COMPRESSION_ZSTD)
        }
    }
}
