import CZlib
import EMStorage

/// DEFLATE in a gzip (RFC 1952) or zlib (RFC 1950) container, through zlib.
enum DeflateCompression {
    /// The wrapper around the DEFLATE stream.
    enum Container {
        case gzip, zlib
        /// zlib's `windowBits`: 15 for a zlib header, +16 for a gzip header.
        var windowBits: Int32 { self == .gzip ? 31 : 15 }
    }

    static func compress(_ bytes: UnsafeRawBufferPointer, level: Int, container: Container) throws -> [UInt8] {
        let name = container == .gzip ? "gzip" : "zlib"
        guard (0...9).contains(level) else {
            throw StorageError.unsupported(path: name, feature: "level \(level) (\(name) accepts 0...9)")
        }
        var stream = z_stream()
        var status = deflateInit2_(&stream, Int32(level), Z_DEFLATED, container.windowBits, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw StorageError.io(path: name, reason: "deflateInit2 failed (\(status))") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(bytes.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            status = deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw StorageError.io(path: name, reason: "deflate failed (\(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Inflates a gzip or zlib stream (the header tells which) into exactly `destination`.
    static func decompress(_ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, path: String) throws {
        var stream = z_stream()
        // windowBits 15 + 32: detect a zlib or gzip header automatically.
        let initStatus = inflateInit2_(&stream, 47, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw StorageError.io(path: path, reason: "inflateInit2 failed (\(initStatus))") }
        defer { inflateEnd(&stream) }
        // zlib wants a non-null output pointer even for an empty chunk.
        let empty = UnsafeMutablePointer<Bytef>.allocate(capacity: 1)
        defer { empty.deallocate() }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        stream.next_out = destination.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? empty
        stream.avail_out = uInt(destination.count)
        let status = inflate(&stream, Z_FINISH)
        switch status {
        case Z_STREAM_END:
            guard Int(stream.total_out) == destination.count else {
                throw StorageError.corruptChunk(path: path, reason: "deflate stream holds \(stream.total_out) bytes, expected \(destination.count)")
            }
        case Z_BUF_ERROR where stream.avail_out == 0:
            throw StorageError.corruptChunk(path: path, reason: "deflate stream holds more than the expected \(destination.count) bytes")
        case Z_BUF_ERROR:
            throw StorageError.corruptChunk(path: path, reason: "deflate stream is truncated after \(stream.total_out) of \(destination.count) bytes")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
            throw StorageError.corruptChunk(path: path, reason: "not a valid gzip/zlib stream: \(message)")
        }
    }
}
