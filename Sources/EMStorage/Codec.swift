/// A chunk compressor, as chosen for an output store. Formats map it onto their own names
/// (Zarr `compressor`/`codecs`, HDF5 filters, TIFF compression tags).
public enum Codec: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Blosc's inner compressors this project supports.
    public enum BloscCompressor: String, Codable, Sendable, CaseIterable { case lz4, zstd, blosclz, lz4hc, zlib }
    /// Blosc's pre-filter.
    public enum BloscShuffle: Int, Codable, Sendable { case none = 0, byte = 1, bit = 2 }

    /// No compression.
    case raw
    /// Zstandard at a level (1-22).
    case zstd(level: Int)
    /// gzip (RFC 1952) at a level (1-9).
    case gzip(level: Int)
    /// zlib (RFC 1950) at a level (1-9).
    case zlib(level: Int)
    /// Blosc with an inner compressor, level (1-9) and shuffle.
    case blosc(compressor: BloscCompressor, level: Int, shuffle: BloscShuffle)

    /// The names `--codec` accepts.
    public static let commandLineNames = ["raw", "zstd", "gzip", "zlib", "blosc-lz4", "blosc-zstd"]

    /// Parses a command-line codec name with an optional level.
    public static func parse(_ name: String, level: Int? = nil) throws -> Codec {
        switch name.lowercased() {
        case "raw", "none": return .raw
        case "zstd": return .zstd(level: level ?? 5)
        case "gzip": return .gzip(level: level ?? 5)
        case "zlib": return .zlib(level: level ?? 5)
        case "blosc-lz4", "blosc": return .blosc(compressor: .lz4, level: level ?? 5, shuffle: .byte)
        case "blosc-zstd": return .blosc(compressor: .zstd, level: level ?? 5, shuffle: .byte)
        default:
            throw StorageError.unknownCodec(path: "--codec", name: name, supported: commandLineNames.joined(separator: ", "))
        }
    }

    public var description: String {
        switch self {
        case .raw: return "raw"
        case let .zstd(level): return "zstd (level \(level))"
        case let .gzip(level): return "gzip (level \(level))"
        case let .zlib(level): return "zlib (level \(level))"
        case let .blosc(compressor, level, shuffle): return "blosc-\(compressor.rawValue) (level \(level), \(shuffle) shuffle)"
        }
    }
}
