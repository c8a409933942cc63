import Foundation
import EMStorage
import EMVolume

/// A 3-D array in a Zarr v2 or v3 hierarchy on the local file system.
///
/// Reads accept any box; chunks a read touches are decoded in parallel, and chunks that were
/// never written read as the fill value. Writes take chunk-aligned boxes (shard-aligned for a
/// sharded array); each chunk file is encoded in parallel and replaced atomically (temporary
/// file + rename), so several threads and processes may write distinct chunks of one array at
/// once. As in zarr-python (`write_empty_chunks=False`), a chunk whose voxels all equal the
/// fill value is not stored: its file is removed, and reads give the fill value back.
///
/// Files are complete when `writeBytes` returns; `flush` has nothing left to do (chunk files
/// are not fsync'ed: after a power loss a chunk may be missing, never partial).
///
/// Sharded v3 arrays report their shard shape as `metadata.chunkShape`, since a shard is the
/// unit a write replaces; `decodeChunkShape` gives the inner chunk shape.
public final class ZarrStore: VolumeStore, Sendable {
    /// The address the array was opened or created at.
    public let address: StoreAddress
    /// Shape, type, chunking (shards for a sharded array), placement, codec and fill value.
    public let metadata: VolumeMetadata
    /// The parsed array metadata.
    let array: ZarrArrayDescription
    /// The array's directory.
    let directory: String
    /// One element holding the fill value, host order.
    let fillPattern: [UInt8]

    /// The Zarr format version of the array: 2 or 3.
    public var formatVersion: Int { array.version }

    /// The smallest block a read decodes: the chunk shape, or the inner chunk shape of a
    /// sharded array.
    public var decodeChunkShape: Coordinate { array.decodeChunkShape }

    private init(address: StoreAddress, array: ZarrArrayDescription, directory: String, voxelSize: VoxelSize, origin: WorldPoint) {
        self.address = address
        self.array = array
        self.directory = directory
        fillPattern = array.fillValue.elementBytes(as: array.dataType)
        metadata = VolumeMetadata(shape: array.shape, dataType: array.dataType, chunkShape: array.chunkShape,
                                  voxelSize: voxelSize, origin: origin, codec: array.codecDescription, fillValue: array.fillValue)
    }

    /// The directory of the node an address names.
    static func nodeDirectory(_ address: StoreAddress) -> String {
        address.key.isEmpty ? address.path : address.path + "/" + address.key
    }

    /// The directory of the group holding the array and the array's name in it (nil for an
    /// array at the hierarchy's root).
    static func parentGroup(_ address: StoreAddress) -> (directory: String, name: String)? {
        let components = address.key.split(separator: "/").map(String.init)
        guard let name = components.last else { return nil }
        return (([address.path] + components.dropLast()).joined(separator: "/"), name)
    }

    /// The file of a chunk (or shard).
    func chunkPath(_ index: Coordinate) -> String {
        directory + "/" + array.keyEncoding.key(index)
    }

    /// Opens an existing array: Zarr v3 (`zarr.json`) or v2 (`.zarray` and `.zattrs`).
    ///
    /// The voxel size and origin come from OME-Zarr multiscales on the parent group (0.4 or
    /// 0.5) when they list this array, else from the array's `resolution` (or `voxel_size`)
    /// and `offset` attributes (nm, z y x, as funlib/daisy write them), else 1 nm and 0.
    ///
    /// - Throws: `StorageError.missing` when no array is there (naming a group if that is what
    ///   is there), `malformedMetadata`, `unknownCodec` or `unsupported` naming the metadata
    ///   file and key otherwise.
    public static func open(_ address: StoreAddress) throws -> ZarrStore {
        guard address.format == .zarr else {
            throw StorageError.badAddress(address: address.description, expected: "a Zarr address such as out.zarr/volumes/raw")
        }
        let directory = nodeDirectory(address)
        let array: ZarrArrayDescription, attributes: JSONObject, attributesPath: String
        switch try ZarrHierarchy.node(at: directory) {
        case .array(version: 3)?:
            attributesPath = directory + "/" + ZarrHierarchy.v3Metadata
            let reader = try MetadataReader(document: try ZarrHierarchy.readDocument(attributesPath)!, path: attributesPath)
            array = try ZarrV3Format.parseArray(reader)
            attributes = try reader.optionalObject("attributes")?.object ?? JSONObject()
        case .array?:
            let path = directory + "/.zarray"
            guard let document = try ZarrHierarchy.readDocument(path) else { throw StorageError.missing(path: path, what: "array metadata") }
            array = try ZarrV2Format.parseArray(try MetadataReader(document: document, path: path), directory: directory)
            attributesPath = ZarrHierarchy.attributesPath(directory, version: 2)
            attributes = try ZarrHierarchy.attributes(at: directory, version: 2)
        case .group?:
            throw StorageError.missing(path: directory, what: "Zarr array (this is a group; address an array inside it, e.g. \(StoreAddress(format: .zarr, path: address.path, key: address.key.isEmpty ? "raw" : address.key + "/raw")))")
        case nil:
            if let other = otherFormat(at: directory) {
                throw StorageError.unsupported(path: directory, feature: "\(other), not a Zarr array (no .zarray or zarr.json); emflow reads Zarr v2/v3, HDF5 and TIFF: convert it with a tool that reads it (e.g. tensorstore) to Zarr first")
            }
            throw StorageError.missing(path: directory, what: "Zarr array (.zarray or zarr.json\(missingArrayHint(address)))")
        }
        let metadataFile = directory + "/" + (array.version == 3 ? ZarrHierarchy.v3Metadata : ".zarray")
        try VolumeSizes.checkVolume(array.shape, elementSize: array.dataType.size, at: metadataFile)
        try VolumeSizes.checkChunk(array.decodeChunkShape, elementSize: array.dataType.size, at: metadataFile)
        let (voxelSize, origin) = try placement(address: address, version: array.version,
                                                 attributes: MetadataReader(attributes, path: attributesPath))
        return ZarrStore(address: address, array: array, directory: directory, voxelSize: voxelSize, origin: origin)
    }

    /// What a directory without Zarr metadata holds when it is a volume of another chunked
    /// format that is often mistaken for Zarr: N5 (`attributes.json` with `dimensions`) or
    /// neuroglancer precomputed (an `info` file with `scales`).
    private static func otherFormat(at directory: String) -> String? {
        func json(_ name: String) -> [String: Any]? {
            FileManager.default.contents(atPath: directory + "/" + name)
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        if let n5 = json("attributes.json") { return n5["dimensions"] != nil ? "an N5 dataset" : "an N5 group" }
        if json("info")?["scales"] != nil { return "a neuroglancer precomputed volume" }
        return nil
    }

    /// `; did you mean 'out.zarr/volumes/raw'? arrays in the hierarchy: ...` for an address
    /// whose array does not exist, or "" when the hierarchy holds no array.
    private static func missingArrayHint(_ address: StoreAddress) -> String {
        let keys = ZarrHierarchy.arrayKeys(under: address.path)
        guard !keys.isEmpty else { return "" }
        let closest = Suggestions.closest(to: address.key, among: keys)
            .map { "did you mean '\(StoreAddress(format: .zarr, path: address.path, key: $0))'? " } ?? ""
        let shown = keys.prefix(20).joined(separator: ", ") + (keys.count > 20 ? " and \(keys.count - 20) more" : "")
        return "; \(closest)arrays in the hierarchy: \(shown)"
    }

    /// Voxel size and origin: OME-Zarr on the parent group, else the array's attributes.
    private static func placement(address: StoreAddress, version: Int, attributes: MetadataReader) throws -> (VoxelSize, WorldPoint) {
        if let (parent, name) = parentGroup(address) {
            let groupAttributes = try ZarrHierarchy.attributes(at: parent, version: version)
            if let found = try OMEMultiscales.placement(in: groupAttributes, arrayName: name,
                                                        path: ZarrHierarchy.attributesPath(parent, version: version)) {
                return found
            }
        }
        var voxelSize = VoxelSize.unit, origin = WorldPoint.zero
        for key in ["resolution", "voxel_size"] where attributes.optional(key) != nil {
            let v = try attributes.numberTriple(key, "voxel size in nm")
            guard v.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw attributes.malformed(key, "positive voxel sizes, got \(v)") }
            voxelSize = VoxelSize(v[0], v[1], v[2])
            break
        }
        if attributes.optional("offset") != nil {
            let o = try attributes.numberTriple("offset", "origin in nm")
            origin = WorldPoint(o[0], o[1], o[2])
        }
        return (voxelSize, origin)
    }

    /// Creates an array (and the groups above it) and opens it.
    ///
    /// Writes `resolution` and `offset` attributes (nm, z y x) on the array and, unless
    /// `options.writeOMEMetadata` is false or the array is the hierarchy's root, OME-Zarr
    /// multiscales on its parent group (0.4 for v2, 0.5 for v3). The chunk shape is clipped to
    /// the volume shape (not for sharded arrays, whose shard shape must be a multiple of it).
    ///
    /// - Throws: `StorageError.unwritable` when an array or group already exists there and
    ///   `overwrite` is false, when the directory holds something that is not Zarr, or when the
    ///   files cannot be written; `malformedMetadata`/`unsupported` for bad specs or options.
    public static func create(_ address: StoreAddress, spec: VolumeSpec, options: ZarrOptions = ZarrOptions(),
                              overwrite: Bool = false) throws -> ZarrStore {
        guard address.format == .zarr else {
            throw StorageError.badAddress(address: address.description, expected: "a Zarr address such as out.zarr/volumes/raw")
        }
        try spec.validate(for: address.description)
        try options.validate(chunkShape: spec.chunkShape, address: address.description)
        guard try StoreAddress.arrayKey(address.key, address: address.description) == address.key else {
            throw StorageError.badAddress(address: address.description, expected: "an array path without leading or trailing '/'")
        }
        let directory = nodeDirectory(address)
        try clearForCreation(directory, overwrite: overwrite, keeping: options.keptFiles)

        let chunkShape = options.shardShape == nil ? Coordinate.minimum(spec.chunkShape, spec.shape) : spec.chunkShape
        let compressed = ChunkEncoding(byteOrder: .little, compressor: spec.codec, checksum: false)
        let array = ZarrArrayDescription(
            version: options.version, shape: spec.shape, chunkShape: options.shardShape ?? chunkShape, dataType: spec.dataType,
            fillValue: spec.fillValue,
            keyEncoding: ChunkKeyEncoding(prefix: options.version == 2 ? nil : "c", separator: options.dimensionSeparator),
            encoding: options.shardShape == nil ? compressed : ChunkEncoding(),
            sharding: options.shardShape.map { _ in
                ShardLayout(innerChunkShape: chunkShape, inner: compressed, index: ChunkEncoding(byteOrder: .little, compressor: .raw, checksum: true), indexAtEnd: true)
            })
        let attributes = JSONObject([("resolution", JSONValue(spec.voxelSize.components)), ("offset", JSONValue(spec.origin.components))])

        try ZarrHierarchy.createGroups(root: address.path, key: address.key, version: options.version)
        if options.version == 2 {
            try ZarrHierarchy.writeDocument(ZarrV2Format.arrayDocument(array), to: directory + "/.zarray")
            try ZarrHierarchy.writeDocument(.object(attributes), to: directory + "/.zattrs")
        } else {
            try ZarrHierarchy.writeDocument(ZarrV3Format.arrayDocument(array, attributes: attributes), to: directory + "/" + ZarrHierarchy.v3Metadata)
        }
        if options.writeOMEMetadata, let (parent, name) = parentGroup(address) {
            let groupAttributes = try ZarrHierarchy.attributes(at: parent, version: options.version)
            let updated = OMEMultiscales.updating(groupAttributes, arrayName: name, voxelSize: spec.voxelSize,
                                                  origin: spec.origin, zarrVersion: options.version)
            try ZarrHierarchy.setGroupAttributes(updated, at: parent, version: options.version)
        }
        return try open(address)
    }

    /// Makes sure nothing is at `directory`, removing an existing Zarr node when `overwrite`.
    ///
    /// The node is first renamed out of the way (one atomic step) and then deleted, so that a
    /// process killed meanwhile leaves either the whole old node or none of it, never an array
    /// whose chunks are gone while its bookkeeping (done markers, journals) remains. What such
    /// a kill leaves (`.emflow-trash-NAME-*` beside the node) is removed by the next creation.
    private static func clearForCreation(_ directory: String, overwrite: Bool, keeping kept: [String]) throws {
        let url = URL(fileURLWithPath: directory)
        let (parent, name) = (url.deletingLastPathComponent().path, url.lastPathComponent)
        let manager = FileManager.default
        let trashPrefix = ".emflow-trash-" + name + "-"
        for leftover in (try? manager.contentsOfDirectory(atPath: parent)) ?? [] where leftover.hasPrefix(trashPrefix) {
            try? manager.removeItem(atPath: parent + "/" + leftover)
        }
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw StorageError.unwritable(path: directory, reason: "exists and is not a directory") }
        let isNode = [".zarray", ".zgroup", ZarrHierarchy.v3Metadata].contains { ChunkFiles.exists(directory + "/" + $0) }
        if isNode {
            guard overwrite else { throw StorageError.unwritable(path: directory, reason: "a Zarr array or group exists; pass overwrite to replace it") }
            let trash = parent + "/" + trashPrefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            guard rename(directory, trash) == 0 else {
                throw StorageError.unwritable(path: directory, reason: "cannot move the existing array aside (\(String(cString: strerror(errno))))")
            }
            // The kept files move into the new directory one rename each: whole, or still in the trash.
            let keptHere = kept.filter { manager.fileExists(atPath: trash + "/" + $0) }
            if !keptHere.isEmpty {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for name in keptHere { _ = rename(trash + "/" + name, directory + "/" + name) }
            }
            do { try manager.removeItem(atPath: trash) } catch {
                throw StorageError.unwritable(path: directory, reason: "cannot remove the existing array, moved to \(trash) (\(error.localizedDescription))")
            }
        } else if let contents = try? manager.contentsOfDirectory(atPath: directory), !contents.isEmpty {
            // A creation killed before its metadata was renamed into place leaves only emflow's
            // own temporary and bookkeeping files (`.emflow-*`), no data: those are cleared, but
            // for the files the caller keeps.
            guard contents.allSatisfy({ $0.hasPrefix(".emflow-") }) else {
                throw StorageError.unwritable(path: directory, reason: "exists, holds files and is not a Zarr array; refusing to replace it")
            }
            for leftover in contents where !kept.contains(leftover) { try? manager.removeItem(atPath: directory + "/" + leftover) }
        }
    }

    /// Name, size and modification time of every file of the array at `address`, sorted
    /// (emflow's `.emflow-*` bookkeeping left out): changes whenever a chunk or the metadata
    /// is rewritten.
    public static func fileState(of address: StoreAddress) -> String {
        var lines: [String] = []
        func visit(_ directory: String, relative: String) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".emflow") {
                let path = directory + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    visit(path, relative: relative + name + "/")
                } else {
                    lines.append("\(relative)\(name) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
                }
            }
        }
        visit(nodeDirectory(address), relative: "")
        return lines.sorted().joined(separator: "\n")
    }

    /// Nothing to do: each chunk file is complete when `writeBytes` returns.
    public func flush() throws {}

    /// Bytes of all files of the array (metadata and chunks).
    public func bytesOnDisk() throws -> Int64 {
        try ChunkFiles.totalSize(directory)
    }
}
