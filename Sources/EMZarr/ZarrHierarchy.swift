import Foundation
import EMStorage

/// Nodes of a Zarr hierarchy on disk: what a directory holds, group creation, and the
/// attributes of groups.
enum ZarrHierarchy {
    /// What a directory is.
    enum Node: Equatable {
        case array(version: Int)
        case group(version: Int)
    }

    /// The v3 metadata file name.
    static let v3Metadata = "zarr.json"

    /// The node at `directory`, or nil when it holds no Zarr metadata. A `zarr.json` takes
    /// precedence over v2 files, as in zarr-python.
    static func node(at directory: String) throws -> Node? {
        let v3 = directory + "/" + v3Metadata
        if let document = try readDocument(v3) {
            let reader = try MetadataReader(document: document, path: v3)
            let format = try reader.integer("zarr_format")
            guard format == 3 else { throw reader.malformed("zarr_format", "3 in zarr.json, got \(format)") }
            switch try reader.string("node_type") {
            case "array": return .array(version: 3)
            case "group": return .group(version: 3)
            case let other: throw reader.malformed("node_type", "\"array\" or \"group\", got \"\(other)\"")
            }
        }
        if ChunkFiles.exists(directory + "/.zarray") { return .array(version: 2) }
        if ChunkFiles.exists(directory + "/.zgroup") { return .group(version: 2) }
        return nil
    }

    /// The parsed JSON at `path`, or nil when the file does not exist.
    static func readDocument(_ path: String) throws -> JSONValue? {
        guard let bytes = try ChunkFiles.read(path) else { return nil }
        return try JSONValue.parse(Data(bytes), path: path)
    }

    /// Writes a JSON document atomically.
    static func writeDocument(_ document: JSONValue, to path: String) throws {
        try ChunkFiles.write(Array(document.serialized.utf8), to: path)
    }

    /// Makes `root` and every directory on the way to `key`'s parent a group (where it holds
    /// no node yet).
    ///
    /// - Throws: `StorageError.unwritable` when one of them is an array.
    static func createGroups(root: String, key: String, version: Int) throws {
        let components = key.split(separator: "/").map(String.init)
        var directory = root
        for depth in 0..<components.count {
            switch try node(at: directory) {
            case .array?:
                throw StorageError.unwritable(path: directory, reason: "is a Zarr array, so it cannot hold '\(components[depth...].joined(separator: "/"))'")
            case .group(version)?:
                break
            case .group?, nil:
                try writeDocument(groupDocument(version: version, attributes: JSONObject()), to: metadataPath(directory, version: version))
            }
            directory += "/" + components[depth]
        }
    }

    /// The keys of the arrays in the hierarchy at `root` (the root itself and its groups,
    /// `maxDepth` levels down at most), sorted; unreadable directories are left out.
    static func arrayKeys(under root: String, maxDepth: Int = 8) -> [String] {
        var keys: [String] = []
        func visit(_ directory: String, key: String, depth: Int) {
            guard depth <= maxDepth,
                  let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = directory + "/" + name
                let childKey = key.isEmpty ? name : key + "/" + name
                switch try? node(at: child) {
                case .array?: keys.append(childKey)
                case .group?: visit(child, key: childKey, depth: depth + 1)
                default: break
                }
            }
        }
        visit(root, key: "", depth: 1)
        return keys
    }

    /// The file that holds a group's own metadata (`.zgroup` or `zarr.json`).
    private static func metadataPath(_ directory: String, version: Int) -> String {
        directory + "/" + (version == 2 ? ".zgroup" : v3Metadata)
    }

    private static func groupDocument(version: Int, attributes: JSONObject) -> JSONValue {
        if version == 2 { return .object(JSONObject([("zarr_format", JSONValue(2))])) }
        return .object(JSONObject([("zarr_format", JSONValue(3)), ("node_type", .string("group")), ("attributes", .object(attributes))]))
    }

    /// The file holding a node's attributes: `.zattrs` (v2) or `zarr.json` (v3).
    static func attributesPath(_ directory: String, version: Int) -> String {
        directory + "/" + (version == 2 ? ".zattrs" : v3Metadata)
    }

    /// The attributes of a node (empty when it has none).
    static func attributes(at directory: String, version: Int) throws -> JSONObject {
        let path = attributesPath(directory, version: version)
        guard let document = try readDocument(path) else { return JSONObject() }
        let reader = try MetadataReader(document: document, path: path)
        if version == 2 { return reader.object }
        return try reader.optionalObject("attributes")?.object ?? JSONObject()
    }

    /// Replaces a group's attributes.
    static func setGroupAttributes(_ attributes: JSONObject, at directory: String, version: Int) throws {
        if version == 2 {
            try writeDocument(.object(attributes), to: attributesPath(directory, version: 2))
        } else {
            try writeDocument(groupDocument(version: 3, attributes: attributes), to: metadataPath(directory, version: 3))
        }
    }
}
