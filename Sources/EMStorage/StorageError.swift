/// What went wrong reading or writing a volume store. Every case names the file or key
/// involved and what was expected, so the message alone tells a user what to fix.
public enum StorageError: Error, CustomStringConvertible, Equatable {
    /// A file, directory, dataset or key that does not exist.
    case missing(path: String, what: String)
    /// Metadata that does not parse or holds a wrong value.
    case malformedMetadata(path: String, key: String, expected: String)
    /// A compressor or filter emflow does not implement.
    case unknownCodec(path: String, name: String, supported: String)
    /// A chunk whose bytes do not decode to the expected size.
    case corruptChunk(path: String, reason: String)
    /// The caller asked for one element type, the store holds another.
    case dataTypeMismatch(address: String, expected: String, found: String)
    /// A read or write box not inside the volume (reads may ask for a fill value instead).
    case outsideVolume(address: String, box: String, shape: String)
    /// A write box not aligned to the chunk grid.
    case notChunkAligned(address: String, box: String, chunks: String)
    /// An output that cannot be created or written.
    case unwritable(path: String, reason: String)
    /// A store address that does not parse.
    case badAddress(address: String, expected: String)
    /// A feature of the format emflow does not support.
    case unsupported(path: String, feature: String)
    /// An error from the operating system or a native library.
    case io(path: String, reason: String)
    /// A volume that its writer has not finished (an interrupted convert, generate or run).
    case incomplete(address: String, reason: String)

    /// True for failures that the same command would meet again at the same place (damaged
    /// or unsupported data, wrong metadata), so that "run it again to resume" would mislead;
    /// false for those a re-run may get past (I/O errors, a full disk, a lock).
    public var isPersistent: Bool {
        switch self {
        case .malformedMetadata, .unknownCodec, .corruptChunk, .dataTypeMismatch, .outsideVolume, .notChunkAligned,
             .badAddress, .unsupported, .incomplete:
            return true
        case .missing, .unwritable, .io:
            return false
        }
    }

    public var description: String {
        switch self {
        case let .missing(path, what): return "\(path): \(what) not found"
        case let .malformedMetadata(path, key, expected): return "\(path): metadata key '\(key)': expected \(expected)"
        case let .unknownCodec(path, name, supported):
            let names = supported.split(separator: ",").map { String($0.drop { $0 == " " }) }
            return "\(path): unknown codec '\(name)'\(Suggestions.didYouMean(name, among: names)) (supported: \(supported))"
        case let .corruptChunk(path, reason): return "\(path): corrupt chunk: \(reason)"
        case let .dataTypeMismatch(address, expected, found): return "\(address): expected data type \(expected), the store holds \(found)"
        case let .outsideVolume(address, box, shape): return "\(address): box \(box) is outside the volume of shape \(shape) (ask for a fill value to read past the edges)"
        case let .notChunkAligned(address, box, chunks): return "\(address): write box \(box) is not aligned to the chunk grid \(chunks)"
        case let .unwritable(path, reason): return "\(path): cannot write: \(reason)"
        case let .badAddress(address, expected): return "'\(address)': \(expected)"
        case let .unsupported(path, feature): return "\(path): unsupported: \(feature)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .incomplete(address, reason): return "'\(address)' is incomplete: \(reason)"
        }
    }
}
