import EMStorage
import Foundation

/// Where a volume's bytes really are, independent of how its address was spelt: the
/// resolved file-system path of the node (symbolic links followed, `.` and `..` folded, the
/// parts that do not exist yet appended as written), and for HDF5 the dataset path inside
/// the file.
///
/// Two addresses conflict when one node lies inside the other (or they are the same): then
/// replacing one deletes or overwrites the other. `out.zarr:raw`, `./out.zarr/raw` and a
/// symbolic link to `out.zarr` all name one node; `out.zarr` (a root) contains `out.zarr/raw`.
public struct StoreIdentity: Hashable, Sendable, CustomStringConvertible {
    /// Path components from the file-system root down to the node; an HDF5 dataset's
    /// components follow its file's, after a separator that no file name can hold.
    public let components: [String]

    /// The identity of the volume at `address`.
    public init(_ address: StoreAddress) {
        switch address.format {
        case .zarr:
            let node = address.key.isEmpty ? address.path : address.path + "/" + address.key
            components = Self.resolved(node)
        case .hdf5:
            components = Self.resolved(address.path) + ["\u{0}hdf5"] + address.key.split(separator: "/").map(String.init)
        case .tiff:
            components = Self.resolved(address.path)
        }
    }

    /// True when the two nodes are the same or one lies inside the other.
    public func overlaps(_ other: StoreIdentity) -> Bool {
        let n = min(components.count, other.components.count)
        return Array(components.prefix(n)) == Array(other.components.prefix(n))
    }

    public var description: String {
        "/" + components.map { $0 == "\u{0}hdf5" ? ":" : $0 }.joined(separator: "/")
            .replacingOccurrences(of: "/:/", with: ":")
    }

    /// The components of `path` made absolute: resolved by `realpath(3)` where it exists,
    /// else its parent resolved and the last component appended (`..` and `.` folded).
    static func resolved(_ path: String) -> [String] {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real).split(separator: "/").map(String.init)
        }
        var parts = absolute.split(separator: "/").map(String.init)
        guard let last = parts.popLast() else { return [] }
        let parent = resolved("/" + parts.joined(separator: "/"))
        switch last {
        case "..": return Array(parent.dropLast())
        case ".": return parent
        default: return parent + [last]
        }
    }
}
