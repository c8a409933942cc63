import Foundation

/// Where a volume lives: a format, a file or directory, and a key inside it.
///
/// One syntax for all formats:
/// - HDF5: `file.h5:volumes/raw` (also `.hdf5`, `.hdf`)
/// - Zarr: `out.zarr/pred`, `out.zarr:pred`, or `out.zarr` for a root array; N5-style nested
///   groups are path components after the `.zarr` directory
/// - TIFF: `stack.tif` (multi-page) or `slices/*.tif` (one file per z section, natural order)
public struct StoreAddress: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The storage formats emflow reads and writes.
    public enum Format: String, Codable, Sendable { case hdf5, zarr, tiff }

    /// The format of the store.
    public var format: Format
    /// The HDF5 file, Zarr root directory, TIFF file or TIFF glob pattern.
    public var path: String
    /// Dataset path inside an HDF5 file or array path inside a Zarr hierarchy ("" = root).
    public var key: String

    /// Creates an address from its parts.
    public init(format: Format, path: String, key: String = "") {
        self.format = format
        self.path = path
        self.key = key
    }

    /// The address in the syntax `parse` accepts.
    public var description: String {
        switch format {
        case .hdf5: return "\(path):\(key)"
        case .zarr: return key.isEmpty ? path : "\(path)/\(key)"
        case .tiff: return path
        }
    }

    static let hdf5Extensions = [".h5", ".hdf5", ".hdf"]
    static let zarrExtensions = [".zarr", ".n5", ".zr"]
    static let tiffExtensions = [".tif", ".tiff"]

    /// Parses an address.
    ///
    /// - Throws: `StorageError.badAddress` saying which forms are accepted.
    public static func parse(_ text: String) throws -> StoreAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw StorageError.badAddress(address: text, expected: usage) }
        let lower = trimmed.lowercased()

        // HDF5: the file part ends with an HDF5 extension, followed by ':key' or nothing.
        for ext in hdf5Extensions {
            if let range = lower.range(of: ext + ":") {
                let path = String(trimmed[..<trimmed.index(trimmed.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: range.lowerBound) + ext.count)])
                let key = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: range.upperBound))...])
                guard !key.isEmpty else {
                    throw StorageError.badAddress(address: text, expected: "an HDF5 address needs a dataset after ':' (e.g. \(path):volumes/raw)")
                }
                return StoreAddress(format: .hdf5, path: path, key: key.trimmingSlashes)
            }
            if lower.hasSuffix(ext) {
                throw StorageError.badAddress(address: text, expected: "an HDF5 address needs a dataset: \(trimmed):volumes/raw")
            }
        }

        // TIFF: a file or glob ending with a TIFF extension.
        if tiffExtensions.contains(where: { lower.hasSuffix($0) }) {
            return StoreAddress(format: .tiff, path: trimmed)
        }

        // Zarr: `root.zarr:key`, or a path component with a Zarr extension followed by the key.
        for ext in zarrExtensions {
            if let range = lower.range(of: ext + ":") {
                let cut = lower.distance(from: lower.startIndex, to: range.lowerBound) + ext.count
                return StoreAddress(format: .zarr, path: String(trimmed.prefix(cut)),
                                    key: try arrayKey(String(trimmed.dropFirst(cut + 1)), address: text))
            }
        }
        let components = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        if let i = components.firstIndex(where: { c in zarrExtensions.contains { c.lowercased().hasSuffix($0) } }) {
            return StoreAddress(format: .zarr, path: components[...i].joined(separator: "/"),
                                key: try arrayKey(components[(i + 1)...].joined(separator: "/"), address: text))
        }

        // A directory that is itself a Zarr array or group, without the extension.
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory), isDirectory.boolValue {
            for marker in [".zarray", ".zgroup", "zarr.json"] where FileManager.default.fileExists(atPath: trimmed + "/" + marker) {
                return StoreAddress(format: .zarr, path: trimmed.trimmingTrailingSlash, key: "")
            }
        }
        if isDirectory.boolValue, let data = FileManager.default.contents(atPath: trimmed + "/info"),
           let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any], info["scales"] != nil {
            throw StorageError.badAddress(address: text, expected: "this is a neuroglancer precomputed volume (an 'info' file with scales); emflow reads Zarr v2/v3, HDF5 and TIFF: convert it to Zarr first (e.g. with tensorstore or cloud-volume)")
        }
        throw StorageError.badAddress(address: text, expected: usage)
    }

    /// A Zarr array path inside its hierarchy, checked so that it stays inside: no `..` or `.`
    /// components and no empty ones (`a//b`); leading and trailing slashes are dropped.
    ///
    /// - Throws: `StorageError.badAddress` naming the offending component.
    public static func arrayKey(_ text: String, address: String) throws -> String {
        let key = text.trimmingSlashes
        guard !key.isEmpty else { return key }
        for component in key.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty {
                throw StorageError.badAddress(address: address, expected: "the array path '\(key)' has an empty component ('//'); write each group name once")
            }
            if component == ".." || component == "." {
                throw StorageError.badAddress(address: address, expected: "the array path '\(key)' contains '\(component)': an array path names groups inside the hierarchy and may not leave it")
            }
        }
        return key
    }

    static let usage = "expected file.h5:dataset, dir.zarr/array, stack.tif or 'slices/*.tif'"
}

extension String {
    var trimmingSlashes: String {
        var s = Substring(self)
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }

    var trimmingTrailingSlash: String {
        var s = Substring(self)
        while s.count > 1, s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}
