import EMStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One volume of a batch run: its store address and the name its outputs are templated with.
public struct BatchItem: Hashable, Sendable {
    /// The volume's store address, as the pipeline's input variable receives it.
    public var address: String
    /// The stem of the volume's file or Zarr directory (`${name}` in the pipeline).
    public var name: String

    /// Creates an item.
    public init(address: String, name: String) {
        self.address = address
        self.name = name
    }
}

/// The volumes of `emflow run --each`: a glob of store addresses or a list file.
public enum BatchInputs {
    /// Expands `specification`:
    /// - `@list.txt`: one store address per line (blank lines and `#` comments ignored; relative
    ///   paths are relative to the list's directory);
    /// - a glob over files or Zarr directories, with an HDF5 dataset after `:`
    ///   (`volumes/*.h5:volumes/raw`, `volumes/*.zarr/raw`).
    ///
    /// - Throws: `PipelineError.execution` when nothing matches, the list cannot be read, an
    ///   entry is not a store address, or two volumes would get the same name.
    public static func expand(_ specification: String) throws -> [BatchItem] {
        let items: [BatchItem]
        if specification.hasPrefix("@") {
            items = try list(String(specification.dropFirst()))
        } else {
            items = try glob(specification)
        }
        guard !items.isEmpty else { throw PipelineError.execution("--each '\(specification)' matches no volume") }
        var seen: [String: String] = [:]
        for item in items {
            if let other = seen[item.name] {
                throw PipelineError.execution("--each: '\(other)' and '\(item.address)' are both named '\(item.name)'; their outputs would collide")
            }
            seen[item.name] = item.address
        }
        return items
    }

    private static func list(_ path: String) throws -> [BatchItem] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PipelineError.execution("--each: cannot read the list file '\(path)'")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var items: [BatchItem] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            guard !line.isEmpty else { continue }
            let address: StoreAddress
            do { address = try StoreAddress.parse(line) } catch {
                throw PipelineError.execution("\(path):\(number + 1): '\(line)' is not a store address: \(error)")
            }
            var resolved = address
            if !address.path.hasPrefix("/") { resolved.path = directory + "/" + address.path }
            items.append(BatchItem(address: resolved.description, name: stem(of: address.path)))
        }
        return items
    }

    private static func glob(_ specification: String) throws -> [BatchItem] {
        // An HDF5 dataset follows the file pattern after ':'; Zarr arrays are directories the
        // glob matches directly.
        var pattern = specification, suffix = ""
        if let colon = specification.lastIndex(of: ":"), !specification[..<colon].contains(":") {
            pattern = String(specification[..<colon])
            suffix = String(specification[colon...])
        }
        let components = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let wildcard = components.firstIndex { $0.contains(where: { "*?[".contains($0) }) } ?? components.count - 1
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = Glibc.glob(pattern, 0, nil, &matches)
        guard status == 0 else {
            if status == GLOB_NOMATCH { return [] }
            throw PipelineError.execution("--each: cannot expand '\(pattern)' (glob error \(status))")
        }
        var items: [BatchItem] = []
        for i in 0..<Int(matches.gl_pathc) {
            guard let cString = matches.gl_pathv[i] else { continue }
            let path = String(cString: cString)
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            let named = wildcard < parts.count ? String(parts[wildcard]) : path
            items.append(BatchItem(address: path + suffix, name: stem(of: named)))
        }
        return items.sorted { $0.address < $1.address }
    }

    /// The last path component without its extension.
    private static func stem(of path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}
