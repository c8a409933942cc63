import EMStorage
import EMVolume

/// Typed access to one JSON object of a metadata file; every failure is a
/// `StorageError.malformedMetadata` naming the file and the full key path
/// (e.g. `codecs[1].configuration.level`) and what was expected.
struct MetadataReader {
    /// The object read.
    let object: JSONObject
    /// The metadata file, named in errors.
    let path: String
    /// Key path of this object inside the document ("" at the top).
    let keyPath: String

    init(_ object: JSONObject, path: String, keyPath: String = "") {
        self.object = object
        self.path = path
        self.keyPath = keyPath
    }

    /// Reads a whole document, which must be an object.
    init(document: JSONValue, path: String) throws {
        guard case let .object(object) = document else {
            throw StorageError.malformedMetadata(path: path, key: "(document)", expected: "a JSON object at the top level")
        }
        self.init(object, path: path)
    }

    /// The full key path of `key` in this object.
    func name(_ key: String) -> String { keyPath.isEmpty ? key : "\(keyPath).\(key)" }

    /// The error for `key` holding something other than `expected`.
    func malformed(_ key: String, _ expected: String) -> StorageError {
        StorageError.malformedMetadata(path: path, key: name(key), expected: expected)
    }

    /// The value of `key`, or nil when absent (JSON null counts as absent).
    func optional(_ key: String) -> JSONValue? {
        if case .null = object[key] ?? .null { return nil }
        return object[key]
    }

    /// The value of `key`; throws when the key is missing.
    func required(_ key: String, _ expected: String) throws -> JSONValue {
        guard let value = optional(key) else { throw malformed(key, "\(expected) (the key is missing)") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard case let .string(s) = try required(key, "a string") else { throw malformed(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = optional(key) else { return nil }
        guard case let .string(s) = value else { throw malformed(key, "a string") }
        return s
    }

    func number(_ key: String) throws -> Double {
        guard case let .number(n) = try required(key, "a number") else { throw malformed(key, "a number") }
        return n
    }

    func integer(_ key: String) throws -> Int {
        let n = try number(key)
        guard n == n.rounded(), abs(n) < 9e15 else { throw malformed(key, "an integer, got \(n)") }
        return Int(n)
    }

    func optionalInteger(_ key: String) throws -> Int? {
        optional(key) == nil ? nil : try integer(key)
    }

    func object(_ key: String) throws -> MetadataReader {
        guard case let .object(o) = try required(key, "an object") else { throw malformed(key, "an object") }
        return MetadataReader(o, path: path, keyPath: name(key))
    }

    func optionalObject(_ key: String) throws -> MetadataReader? {
        optional(key) == nil ? nil : try object(key)
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard case let .array(a) = try required(key, "an array") else { throw malformed(key, "an array") }
        return a
    }

    /// The elements of an array of objects, each as a reader keyed `key[i]`.
    func objects(_ key: String) throws -> [MetadataReader] {
        try array(key).enumerated().map { i, item in
            guard case let .object(o) = item else { throw malformed("\(key)[\(i)]", "an object") }
            return MetadataReader(o, path: path, keyPath: name("\(key)[\(i)]"))
        }
    }

    /// An array of exactly three numbers (z, y, x).
    func numberTriple(_ key: String, _ what: String) throws -> [Double] {
        let items = try array(key)
        let numbers = items.compactMap { item -> Double? in if case let .number(n) = item { return n } else { return nil } }
        guard items.count == 3, numbers.count == 3 else {
            throw malformed(key, "\(what): 3 numbers (z, y, x), got \(items.count) item(s)")
        }
        return numbers
    }

    /// An array of exactly three positive integers (z, y, x).
    func shape(_ key: String) throws -> Coordinate {
        let items = try array(key)
        let numbers = items.compactMap { item -> Int? in
            if case let .number(n) = item, n == n.rounded(), n >= 1, n < 9e15 { return Int(n) } else { return nil }
        }
        guard numbers.count == items.count else { throw malformed(key, "an array of positive integers") }
        guard let coordinate = Coordinate(numbers) else {
            throw StorageError.unsupported(path: path, feature: "\(numbers.count)-dimensional array (key '\(name(key))'); emflow reads 3-dimensional z, y, x volumes")
        }
        return coordinate
    }
}
