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
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte ^ 0x5a)) &* 0x0000_0100_0000_01b3
        }
        return hex(a) + hex(b)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
