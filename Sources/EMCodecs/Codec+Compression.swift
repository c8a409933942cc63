import EMStorage

extension Codec {
    /// Compresses one chunk.
    ///
    /// - Parameters:
    ///   - bytes: the chunk's uncompressed bytes.
    ///   - elementSize: bytes per element; Blosc's shuffle uses it as its type size, the other
    ///     codecs ignore it.
    /// - Returns: the encoded bytes, in the codec's standard container (zstd frame, gzip
    ///   member, zlib stream, Blosc 1 buffer, or the bytes themselves for `raw`).
    /// - Throws: `StorageError.unsupported` for a level the library rejects, and
    ///   `StorageError.io` when the native library fails.
    public func encode(_ bytes: UnsafeRawBufferPointer, elementSize: Int) throws -> [UInt8] {
        switch self {
        case .raw: return Array(bytes)
        case let .zstd(level): return try ZstdCompression.compress(bytes, level: level)
        case let .gzip(level): return try DeflateCompression.compress(bytes, level: level, container: .gzip)
        case let .zlib(level): return try DeflateCompression.compress(bytes, level: level, container: .zlib)
        case let .blosc(compressor, level, shuffle):
            return try BloscCompression.compress(bytes, compressor: compressor, level: level, shuffle: shuffle, typeSize: elementSize)
        }
    }

    /// Decompresses one chunk into `destination`, which must be exactly the chunk's
    /// uncompressed size.
    ///
    /// - Parameter path: the file or key the bytes came from, named in errors.
    /// - Throws: `StorageError.corruptChunk` naming `path` when the bytes are truncated, are not
    ///   in this codec's format, or decode to a size other than `destination.count`. Corrupt
    ///   input never crashes: every library call is bounded by the buffer sizes.
    public func decode(_ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, path: String) throws {
        switch self {
        case .raw:
            guard bytes.count == destination.count else {
                throw StorageError.corruptChunk(path: path, reason: "raw chunk holds \(bytes.count) bytes, expected \(destination.count)")
            }
            if !bytes.isEmpty { destination.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        case .zstd: try ZstdCompression.decompress(bytes, into: destination, path: path)
        case .gzip, .zlib: try DeflateCompression.decompress(bytes, into: destination, path: path)
        case .blosc: try BloscCompression.decompress(bytes, into: destination, path: path)
        }
    }

    /// Decompresses one chunk of `expectedSize` bytes.
    ///
    /// - Throws: `StorageError.corruptChunk` naming `path` when the bytes do not decode to
    ///   exactly `expectedSize` bytes (see `decode(_:into:path:)`).
    public func decode(_ bytes: UnsafeRawBufferPointer, expectedSize: Int, path: String) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: expectedSize)
        try result.withUnsafeMutableBytes { try decode(bytes, into: $0, path: path) }
        return result
    }
}
