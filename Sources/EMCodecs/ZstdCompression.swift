import CZstd
import EMStorage

/// Zstandard through libzstd's one-shot API (thread-safe: no shared context).
enum ZstdCompression {
    static func compress(_ bytes: UnsafeRawBufferPointer, level: Int) throws -> [UInt8] {
        guard Int32(exactly: level).map({ $0 >= ZSTD_minCLevel() && $0 <= ZSTD_maxCLevel() }) == true else {
            throw StorageError.unsupported(path: "zstd", feature: "level \(level) (zstd accepts \(ZSTD_minCLevel())...\(ZSTD_maxCLevel()))")
        }
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compress(out.baseAddress, out.count, bytes.baseAddress, bytes.count, Int32(level))
        }
        if ZSTD_isError(written) != 0 {
            throw StorageError.io(path: "zstd", reason: "compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.removeSubrange(written...)
        return output
    }

    static func decompress(_ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, path: String) throws {
        // The frame header may state the content size; check it first for a precise message.
        let declared = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        if declared == ZSTD_CONTENTSIZE_ERROR {
            throw StorageError.corruptChunk(path: path, reason: "not a zstd frame (\(bytes.count) bytes)")
        }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN, declared != UInt64(destination.count) {
            throw StorageError.corruptChunk(path: path, reason: "zstd frame holds \(declared) bytes, expected \(destination.count)")
        }
        let produced = ZSTD_decompress(destination.baseAddress, destination.count, bytes.baseAddress, bytes.count)
        if ZSTD_isError(produced) != 0 {
            throw StorageError.corruptChunk(path: path, reason: "zstd: \(String(cString: ZSTD_getErrorName(produced))) (expected \(destination.count) bytes)")
        }
        guard produced == destination.count else {
            throw StorageError.corruptChunk(path: path, reason: "zstd decoded \(produced) bytes, expected \(destination.count)")
        }
    }
}
