import Foundation

/// Where a volume lives: a format, a file or directory, and a key inside it.
///
/// One syntax for all formats:
/// - HDF5: `file.h5:volumes/raw` (also `.hdf5`, `.hdf`)
/// - Zarr: `out.zarr/pred`, `out.zarr:pred`, or `out.zarr` for a root array; N5-style nested
///   groups are path components after the `.zarr` directory
/// - TIFF: `stack.tif` (multi-page) or `slices/*.tif` (one file per z section, natural order)
/// - HDF5 files with other extensions (`.ims`, `.nxs`, `.mat`, `.he5`): `file.ims:dataset`,
///   recognised by the HDF5 signature in the file
/// - any of them followed by `[c=1]`, `[t=2]` or `[c=1,t=2]`: one channel and time point of a
///   volume with more axes than z, y, x (an OME-TIFF or ImageJ hyperstack)
public struct StoreAddress: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The storage formats emflow reads and writes.
    public enum Format: String, Codable, Sendable { case hdf5, zarr, tiff }

    /// The format of the store.
    public var format: Format
    /// The HDF5 file, Zarr root directory, TIFF file or TIFF glob pattern.
    public var path: String
    /// Dataset path inside an HDF5 file or array path inside a Zarr hierarchy ("" = root).
    public var key: String
    /// The channel and time point chosen from a volume that has those axes.
    public var selection: AxisSelection

    /// Creates an address from its parts.
    public init(format: Format, path: String, key: String = "", selection: AxisSelection = AxisSelection()) {
        self.format = format
        self.path = path
        self.key = key
        self.selection = selection
    }

    /// The address in the syntax `parse` accepts.
    public var description: String {
        let volume: String
        switch format {
        case .hdf5: volume = "\(path):\(key)"
        case .zarr: volume = key.isEmpty ? path : "\(path)/\(key)"
        case .tiff: volume = path
        }
        return volume + selection.suffix
    }

    private enum CodingKeys: String, CodingKey { case format, path, key, selection }

    /// Decodes an address; records written before selections existed have none.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(format: try container.decode(Format.self, forKey: .format), path: try container.decode(String.self, forKey: .path),
                  key: try container.decode(String.self, forKey: .key),
                  selection: try container.decodeIfPresent(AxisSelection.self, forKey: .selection) ?? AxisSelection())
    }

    static let hdf5Extensions = [".h5", ".hdf5", ".hdf"]
    static let zarrExtensions = [".zarr", ".n5", ".zr"]
    static let tiffExtensions = [".tif", ".tiff"]

    /// Parses an address.
    ///
    /// - Throws: `StorageError.badAddress` saying which forms are accepted.
    public static func parse(_ text: String) throws -> StoreAddress {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        var selection = AxisSelection()
        if trimmed.hasSuffix("]"), let open = trimmed.lastIndex(of: "[") {
            selection = try AxisSelection.parse(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]), address: text)
            trimmed = String(trimmed[..<open])
        }
        var address = try parseVolume(trimmed, text: text)
        address.selection = selection
        return address
    }

    /// Parses an address without its selection suffix; `text` is the whole address, for messages.
    private static func parseVolume(_ trimmed: String, text: String) throws -> StoreAddress {
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

        // HDF5 under another extension (Imaris .ims, NeXus .nxs, MATLAB v7.3 .mat, HDF-EOS
        // .he5): `file:dataset` where the file holds the HDF5 signature.
        if let colon = trimmed.firstIndex(of: ":"), HDF5Signature.isHDF5(String(trimmed[..<colon])) {
            let key = String(trimmed[trimmed.index(after: colon)...]).trimmingSlashes
            guard !key.isEmpty else {
                throw StorageError.badAddress(address: text, expected: "an HDF5 address needs a dataset after ':' (e.g. \(trimmed[..<colon]):volumes/raw)")
            }
            return StoreAddress(format: .hdf5, path: String(trimmed[..<colon]), key: key)
        }
        if HDF5Signature.isHDF5(trimmed) {
            throw StorageError.badAddress(address: text, expected: "this file is HDF5: name a dataset inside it, as in \(trimmed):volumes/raw (`h5ls -r \(trimmed)` lists them)")
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

/// The channel and time point an address chooses, written `[c=1]`, `[t=0]` or `[c=1,t=0]`
/// after the volume: emflow's volumes are z, y, x, so a file that also has channels or time
/// points needs one of each chosen (never merged into z).
public struct AxisSelection: Hashable, Codable, Sendable {
    /// The channel index (from 0), nil when none was chosen.
    public var channel: Int?
    /// The time point index (from 0), nil when none was chosen.
    public var timePoint: Int?

    /// Creates a selection; nil axes are not chosen.
    public init(channel: Int? = nil, timePoint: Int? = nil) {
        self.channel = channel
        self.timePoint = timePoint
    }

    /// True when nothing is chosen.
    public var isEmpty: Bool { channel == nil && timePoint == nil }

    /// The suffix an address carries: "" or `[c=1,t=0]`.
    public var suffix: String {
        let parts = [channel.map { "c=\($0)" }, timePoint.map { "t=\($0)" }].compactMap { $0 }
        return parts.isEmpty ? "" : "[" + parts.joined(separator: ",") + "]"
    }

    /// Parses the text between the brackets.
    static func parse(_ text: String, address: String) throws -> AxisSelection {
        var selection = AxisSelection()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let index = Int(pair[1]), index >= 0 else {
                throw StorageError.badAddress(address: address, expected: "a selection such as [c=1] or [c=0,t=2] (axis=index, indices from 0), got '[\(text)]'")
            }
            switch pair[0].lowercased() {
            case "c" where selection.channel == nil: selection.channel = index
            case "t" where selection.timePoint == nil: selection.timePoint = index
            default:
                throw StorageError.badAddress(address: address, expected: "a selection of c (channel) and t (time point), each once, such as [c=1,t=0]; got '\(pair[0])' in '[\(text)]'")
            }
        }
        return selection
    }
}

/// Recognises HDF5 files by content: the 8-byte signature at byte 0 or after a user block of
/// 512, 1024, 2048, ... bytes, where HDF5 looks for it (MATLAB v7.3 files have one of 512).
public enum HDF5Signature {
    private static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

    /// True when the open file `descriptor` holds the signature.
    public static func isPresent(inFileDescriptor descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return false }
        var offset = 0
        var bytes = [UInt8](repeating: 0, count: 8)
        while offset + 8 <= Int(status.st_size) {
            if pread(descriptor, &bytes, 8, off_t(offset)) == 8, bytes == signature { return true }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }

    /// True when `path` is a regular file holding the signature.
    public static func isHDF5(_ path: String) -> Bool {
        guard !path.isEmpty else { return false }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return isPresent(inFileDescriptor: descriptor)
    }
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
