import Foundation

/// How emflow writes the JSON of its own files (markers, journals, manifests, reports):
/// sorted keys, so identical values give identical bytes, and indentation for the files
/// people open.
public enum JSONFiles {
    /// An encoder with sorted keys; `pretty` adds line breaks and indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        return encoder
    }

    /// `value` as compact JSON text with sorted keys (for JSON kept inside another document).
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder(pretty: false).encode(value), as: UTF8.self)
    }

    /// Encodes `value` and writes it to `path` atomically (`AtomicFile.write`).
    public static func write<T: Encodable>(_ value: T, to path: String, pretty: Bool = true) throws {
        try AtomicFile.write(try encoder(pretty: pretty).encode(value), to: path)
    }
}
