import Foundation
import EMStorage
import EMVolume

/// A JSON document as parsed from or written to Zarr metadata files. Objects keep their keys
/// in insertion order so that written files read naturally (`zarr_format` first).
enum JSONValue {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer a `Double` cannot hold exactly (beyond 2^53), such as a uint64 fill value;
    /// every other number is `.number`.
    case largeInteger(Int128)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses a metadata file's bytes (JSON, also accepting the `NaN`/`Infinity` literals
    /// Python's `json` module writes).
    ///
    /// - Throws: `StorageError.malformedMetadata` naming `path` when the text is not JSON.
    static func parse(_ data: Data, path: String) throws -> JSONValue {
        // Foundation's JSON5 scanner stops the process (a fatal error inside it) on bytes that
        // are not UTF-8, where it should throw: found by benchmarks/run-fuzz.sh. Check first.
        guard String(data: data, encoding: .utf8) != nil else {
            throw StorageError.malformedMetadata(path: path, key: "(document)", expected: "UTF-8 JSON text (the file holds bytes that are not UTF-8)")
        }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do { return try decoder.decode(JSONValue.self, from: data) } catch {
            // The strict parser says where the text goes wrong; the JSON5 decoder does not.
            var detail = "\(error)"
            do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
                detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? detail
            }
            throw StorageError.malformedMetadata(path: path, key: "(document)", expected: "a valid JSON document (\(detail))")
        }
    }

    /// A JSON number (written without a fraction when it is an integer).
    init(_ value: Double) { self = .number(value) }
    /// A JSON number from an integer.
    init(_ value: Int) { self = .number(Double(value)) }
    /// A JSON array of three integers (z, y, x).
    init(_ coordinate: Coordinate) { self = .array(coordinate.components.map { JSONValue($0) }) }
    /// A JSON array of numbers.
    init(_ values: [Double]) { self = .array(values.map { JSONValue($0) }) }

    /// The document as indented JSON text ending with a newline.
    var serialized: String {
        var text = ""
        write(to: &text, indent: 0)
        return text + "\n"
    }

    private func write(to text: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 4), close = String(repeating: " ", count: indent)
        switch self {
        case .null: text += "null"
        case let .bool(b): text += b ? "true" : "false"
        case let .number(n): text += JSONValue.format(n)
        case let .largeInteger(i): text += String(i)
        case let .string(s): text += JSONValue.quote(s)
        case let .array(items):
            // Arrays of scalars stay on one line (shapes, scales).
            if items.allSatisfy({ $0.isScalar }) {
                text += "[" + items.map { item -> String in var t = ""; item.write(to: &t, indent: 0); return t }.joined(separator: ", ") + "]"
                return
            }
            text += "[\n"
            for (i, item) in items.enumerated() {
                text += pad
                item.write(to: &text, indent: indent + 4)
                text += i + 1 < items.count ? ",\n" : "\n"
            }
            text += close + "]"
        case let .object(object):
            if object.entries.isEmpty { text += "{}"; return }
            text += "{\n"
            for (i, entry) in object.entries.enumerated() {
                text += pad + JSONValue.quote(entry.key) + ": "
                entry.value.write(to: &text, indent: indent + 4)
                text += i + 1 < object.entries.count ? ",\n" : "\n"
            }
            text += close + "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    /// Integers as digits without a fraction (up to 2^127: readers parse `1.15e+18` as a float,
    /// which a uint64 array refuses), other finite numbers in Swift's shortest round-tripping
    /// form. Non-finite numbers are not JSON: callers write them as strings.
    private static func format(_ n: Double) -> String {
        precondition(n.isFinite, "non-finite number \(n) cannot be written as JSON")
        if let integer = Int128(exactly: n) { return String(integer) }
        return "\(n)"
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

extension JSONValue: Decodable {
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = JSONValue.number(n, exactly: container) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else {
            let dictionary = try container.decode([String: JSONValue].self)
            self = .object(JSONObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }
}

extension JSONValue {
    /// `n`, or the exact integer the text holds when `n` rounded it (JSON integers beyond 2^53).
    fileprivate static func number(_ n: Double, exactly container: SingleValueDecodingContainer) -> JSONValue {
        guard n == n.rounded(), abs(n) >= 9_007_199_254_740_992 else { return .number(n) }
        let exact = (try? container.decode(Int64.self)).map { Int128($0) } ?? (try? container.decode(UInt64.self)).map { Int128($0) }
        guard let exact, Int128(exactly: n) != exact else { return .number(n) }
        return .largeInteger(exact)
    }
}

/// A JSON object with ordered keys.
struct JSONObject {
    /// Key-value pairs in document order; keys are unique.
    private(set) var entries: [(key: String, value: JSONValue)]

    /// Creates an object from pairs (later duplicates replace earlier ones).
    init(_ pairs: [(String, JSONValue)] = []) {
        entries = []
        for (key, value) in pairs { self[key] = value }
    }

    /// The value of `key`; setting nil removes it, setting a new key appends it.
    subscript(key: String) -> JSONValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}
