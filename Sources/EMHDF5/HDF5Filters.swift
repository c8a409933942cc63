import CHDF5
import EMStorage

/// One stage of a dataset's filter pipeline (compression, shuffle, checksum, ...).
struct HDF5Filter: Hashable, CustomStringConvertible {
    /// The registered HDF5 filter id (1 = deflate, 32001 = blosc, ...).
    let id: Int32
    /// The name stored in the file (may be empty).
    let storedName: String
    /// The filter's parameters ("client data").
    let parameters: [UInt32]
    /// True when the filter may be skipped where it cannot be applied.
    let isOptional: Bool
    /// True when this HDF5 library (built in or through a plugin) can run the filter.
    let isAvailable: Bool

    /// Well-known filters registered with The HDF Group that need a plugin.
    private static let pluginNames: [Int32: String] = [
        307: "bzip2", 32000: "lzf", 32001: "blosc", 32004: "lz4", 32008: "bitshuffle",
        32013: "zfp", 32015: "zstd", 32017: "sz", 32026: "blosc2",
    ]

    /// `gzip (level 4)`, `shuffle`, `filter 32001 (blosc plugin)`, ...
    var description: String {
        switch id {
        case H5Z_FILTER_DEFLATE: return "gzip (level \(parameters.first ?? 6))"
        case H5Z_FILTER_SHUFFLE: return "shuffle"
        case H5Z_FILTER_FLETCHER32: return "fletcher32"
        case H5Z_FILTER_SZIP: return "szip"
        case H5Z_FILTER_NBIT: return "nbit"
        case H5Z_FILTER_SCALEOFFSET: return "scale-offset"
        default:
            if let name = Self.pluginNames[id] { return "filter \(id) (\(name) plugin)" }
            return storedName.isEmpty ? "filter \(id)" : "filter \(id) (\(storedName))"
        }
    }

    /// The filter pipeline of a dataset-creation property list, in the order filters apply on write.
    static func pipeline(of dcpl: hid_t, at label: String) throws -> [HDF5Filter] {
        let count = H5Pget_nfilters(dcpl)
        try HDF5Library.check(herr_t(count), "read the filter pipeline", at: label)
        return try (0..<UInt32(count)).map { index in
            var flags: UInt32 = 0
            var parameterCount = 16
            var parameters = [UInt32](repeating: 0, count: parameterCount)
            var name = [CChar](repeating: 0, count: 256)
            var config: UInt32 = 0
            let id = H5Pget_filter2(dcpl, index, &flags, &parameterCount, &parameters, name.count, &name, &config)
            try HDF5Library.check(herr_t(id), "read filter \(index) of the pipeline", at: label)
            return HDF5Filter(id: id, storedName: String(cString: name), parameters: Array(parameters.prefix(min(parameterCount, 16))),
                              isOptional: flags & UInt32(H5Z_FLAG_OPTIONAL) != 0, isAvailable: H5Zfilter_avail(id) > 0)
        }
    }

    /// The pipeline as `metadata.codec` reports it: `raw` when empty.
    static func describe(_ pipeline: [HDF5Filter]) -> String {
        pipeline.isEmpty ? "raw" : pipeline.map(\.description).joined(separator: ", ")
    }

    /// The error for reading or writing through a filter this library lacks.
    static func unavailableError(_ filter: HDF5Filter, at label: String) -> StorageError {
        .unsupported(path: label, feature: "the dataset uses \(filter), which this HDF5 library cannot run"
            + " (install the filter's HDF5 plugin and set HDF5_PLUGIN_PATH, or convert the file)")
    }

    /// The deflate level HDF5 output uses for `codec`, or nil for `.raw` (no filter). gzip and
    /// zlib both map onto HDF5's deflate filter, which stores zlib streams.
    ///
    /// - Throws: `StorageError.unsupported` for zstd and blosc (they need HDF5 plugins), and
    ///   `StorageError.malformedMetadata` for a level outside 0-9.
    static func deflateLevel(for codec: Codec, at label: String) throws -> UInt32? {
        switch codec {
        case .raw:
            return nil
        case let .gzip(level), let .zlib(level):
            guard (0...9).contains(level) else {
                throw StorageError.malformedMetadata(path: label, key: "codec", expected: "a gzip level 0-9, got \(level)")
            }
            return UInt32(level)
        case .zstd, .blosc:
            throw StorageError.unsupported(path: label, feature: "codec \(codec): HDF5 output supports gzip or raw; zstd/blosc need HDF5 plugins")
        }
    }
}
