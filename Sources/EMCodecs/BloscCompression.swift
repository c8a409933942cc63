import CBlosc
import EMStorage

/// Blosc 1 through its context API (`blosc_compress_ctx`/`blosc_decompress_ctx`), which needs
/// no global state and is safe from several threads at once. One internal thread per call:
/// callers parallelise over chunks.
enum BloscCompression {
    static func compress(_ bytes: UnsafeRawBufferPointer, compressor: Codec.BloscCompressor, level: Int,
                         shuffle: Codec.BloscShuffle, typeSize: Int) throws -> [UInt8] {
        guard (0...9).contains(level) else {
            throw StorageError.unsupported(path: "blosc", feature: "level \(level) (blosc accepts 0...9)")
        }
        let maximum = Int(Int32.max) - Int(BLOSC_MAX_OVERHEAD)  // BLOSC_MAX_BUFFERSIZE
        guard bytes.count <= maximum else {
            throw StorageError.unsupported(path: "blosc", feature: "a chunk of \(bytes.count) bytes (blosc 1 accepts at most \(maximum))")
        }
        // Blosc treats type sizes above 255 as 1; element sizes here are 1...8.
        let typeSize = (1...255).contains(typeSize) ? typeSize : 1
        var output = [UInt8](repeating: 0, count: bytes.count + Int(BLOSC_MAX_OVERHEAD))
        let written = output.withUnsafeMutableBytes { out in
            blosc_compress_ctx(Int32(level), Int32(shuffle.rawValue), typeSize, bytes.count, bytes.baseAddress,
                               out.baseAddress, out.count, compressor.rawValue, 0, 1)
        }
        guard written > 0 else {
            throw StorageError.io(path: "blosc", reason: "blosc_compress_ctx failed (\(written)) with compressor \(compressor.rawValue)")
        }
        output.removeSubrange(Int(written)...)
        return output
    }

    static func decompress(_ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, path: String) throws {
        guard bytes.count >= Int(BLOSC_MIN_HEADER_LENGTH) else {
            throw StorageError.corruptChunk(path: path, reason: "blosc buffer of \(bytes.count) bytes is shorter than its \(BLOSC_MIN_HEADER_LENGTH)-byte header")
        }
        var declared = 0
        guard blosc_cbuffer_validate(bytes.baseAddress, bytes.count, &declared) == 0 else {
            throw StorageError.corruptChunk(path: path, reason: "not a valid blosc buffer (header inconsistent with its \(bytes.count) bytes)")
        }
        guard declared == destination.count else {
            throw StorageError.corruptChunk(path: path, reason: "blosc buffer holds \(declared) bytes, expected \(destination.count)")
        }
        if declared == 0 { return }
        let produced = blosc_decompress_ctx(bytes.baseAddress, destination.baseAddress, destination.count, 1)
        guard produced == Int32(destination.count) else {
            throw StorageError.corruptChunk(path: path, reason: "blosc decompression failed (\(produced)), expected \(destination.count) bytes")
        }
    }
}
