import Foundation

/// Stable content fingerprints for configurations and layouts (done markers, copy journals).
///
/// FNV-1a over the UTF-8 bytes, two 64-bit lanes with different offsets: stable across runs,
/// processes and machines (unlike `Hasher`), not a cryptographic hash.
public enum Fingerprint {
    /// The number of hex digits of a fingerprint.
    public static let length = 32

    /// A 32-hex-digit fingerprint of `text`.
    public static func of(_ text: String) -> String {
        of(bytes: text.utf8)
    }

    /// A 32-hex-digit fingerprint of `bytes`.
    public static func of<Bytes: Sequence>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var stream = Stream()
        for byte in bytes { stream.add(byte) }
        return stream.value
    }

    /// The fingerprint of a file's bytes, read 4 MiB at a time (model weights of any size),
    /// and the number of bytes read.
    ///
    /// - Throws: `StorageError.io` naming the file when it cannot be read.
    public static func ofFile(_ path: String) throws -> (fingerprint: String, bytes: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StorageError.io(path: path, reason: "cannot be read to fingerprint it")
        }
        defer { try? handle.close() }
        var stream = Stream()
        var count = 0
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 22) } catch {
                throw StorageError.io(path: path, reason: "cannot be read to fingerprint it: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            count += chunk.count
            chunk.withUnsafeBytes { stream.add($0) }
        }
        return (stream.value, count)
    }

    /// A fingerprint of bytes that arrive in pieces: the value equals `of(bytes:)` of their
    /// concatenation.
    public struct Stream {
        private var a: UInt64 = 0xcbf2_9ce4_8422_2325
        private var b: UInt64 = 0x8422_2325_cbf2_9ce4

        public init() {}

        /// Adds one byte.
        @inline(__always)
        public mutating func add(_ byte: UInt8) {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte ^ 0x5a)) &* 0x0000_0100_0000_01b3
        }

        /// Adds `bytes` in order.
        public mutating func add(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes { add(byte) }
        }

        /// The 32-hex-digit fingerprint of everything added.
        public var value: String { Fingerprint.hex(a) + Fingerprint.hex(b) }
    }

    fileprivate static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
