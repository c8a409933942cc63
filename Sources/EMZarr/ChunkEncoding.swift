import EMCodecs
import EMStorage

/// Byte order of elements inside a chunk.
enum ByteOrder: String, Sendable {
    case little, big

    /// The order of this machine.
    static let host: ByteOrder = 1.littleEndian == 1 ? .little : .big
}

/// How one chunk's elements become the bytes of a file (or of an inner chunk of a shard):
/// elements in `byteOrder`, then an optional compressor, then an optional CRC-32C appended
/// (Zarr v3 `crc32c` codec, little-endian).
struct ChunkEncoding: Sendable {
    /// Byte order of the elements before compression.
    var byteOrder: ByteOrder = .little
    /// Compressor (`raw` for none).
    var compressor: Codec = .raw
    /// True when a CRC-32C of the compressed bytes follows them.
    var checksum = false

    /// Encodes a chunk given in host order; `chunk` is scratch and may be byte-swapped in place.
    func encode(_ chunk: UnsafeMutableRawBufferPointer, elementSize: Int) throws -> [UInt8] {
        if byteOrder != .host { swapBytes(chunk, elementSize: elementSize) }
        var bytes = try compressor.encode(UnsafeRawBufferPointer(chunk), elementSize: elementSize)
        if checksum {
            let crc = bytes.withUnsafeBytes { CRC32C.checksum($0) }
            withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes `bytes` into `chunk` (exactly one chunk's size), leaving elements in host order.
    ///
    /// - Throws: `StorageError.corruptChunk` naming `path` for a failed checksum or a wrong size.
    func decode(_ bytes: UnsafeRawBufferPointer, into chunk: UnsafeMutableRawBufferPointer, elementSize: Int, path: String) throws {
        var payload = bytes
        if checksum {
            payload = try ChunkEncoding.verifyChecksum(bytes, path: path)
        }
        try compressor.decode(payload, into: chunk, path: path)
        if byteOrder != .host { swapBytes(chunk, elementSize: elementSize) }
    }

    /// Checks the CRC-32C trailing `bytes` and returns the bytes before it.
    static func verifyChecksum(_ bytes: UnsafeRawBufferPointer, path: String) throws -> UnsafeRawBufferPointer {
        guard bytes.count >= 4 else {
            throw StorageError.corruptChunk(path: path, reason: "\(bytes.count) bytes cannot hold a 4-byte crc32c checksum")
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 4)])
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
        let computed = CRC32C.checksum(payload)
        guard stored == computed else {
            throw StorageError.corruptChunk(path: path, reason: "crc32c checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        return payload
    }

    /// E.g. `zstd (level 5)`, `blosc-lz4 (level 5, byte shuffle) + crc32c, big-endian`.
    var description: String {
        var text = compressor.description
        if checksum { text += " + crc32c" }
        if byteOrder == .big { text += ", big-endian" }
        return text
    }
}

private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

/// Reverses the bytes of each `elementSize`-byte element in place.
func swapBytes(_ buffer: UnsafeMutableRawBufferPointer, elementSize: Int) {
    func swap<T: FixedWidthInteger>(_: T.Type) {
        for offset in stride(from: 0, to: buffer.count - elementSize + 1, by: elementSize) {
            let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
            buffer.storeBytes(of: value.byteSwapped, toByteOffset: offset, as: T.self)
        }
    }
    switch elementSize {
    case 2: swap(UInt16.self)
    case 4: swap(UInt32.self)
    case 8: swap(UInt64.self)
    default: break
    }
}
