import EMStorage
import EMVolume

/// How `ZarrStore.create` lays out a new array.
public struct ZarrOptions: Hashable, Sendable {
    /// Zarr format version, 2 or 3. The default is 2: every Zarr reader in the EM ecosystem
    /// (zarr-python 2 and 3, funlib/daisy, neuroglancer, napari with OME-Zarr 0.4, TensorStore)
    /// opens it. Choose 3 for sharding or for tools that want OME-Zarr 0.5.
    public var version: Int
    /// Separator between chunk indices in file names: "/" (nested directories, the default;
    /// keeps directories small) or "." (flat).
    public var dimensionSeparator: String
    /// Zarr v3 only: shard shape, a multiple of the chunk shape. Each shard file holds
    /// several independently compressed chunks; writes must then be aligned to shards.
    public var shardShape: Coordinate?
    /// Also write OME-Zarr multiscales on the parent group (0.4 for v2, 0.5 for v3).
    public var writeOMEMetadata: Bool
    /// Names of files in the array's directory that an overwrite carries into the new array
    /// (a pipeline's provenance: the replaced output stays recognisably its own, even when the
    /// process is killed before it records the new run there).
    public var keptFiles: [String]

    /// Creates options; see each property for its meaning.
    public init(version: Int = 2, dimensionSeparator: String = "/", shardShape: Coordinate? = nil, writeOMEMetadata: Bool = true,
                keptFiles: [String] = []) {
        self.version = version
        self.dimensionSeparator = dimensionSeparator
        self.shardShape = shardShape
        self.writeOMEMetadata = writeOMEMetadata
        self.keptFiles = keptFiles
    }

    /// Checks the options against a chunk shape.
    func validate(chunkShape: Coordinate, address: String) throws {
        guard version == 2 || version == 3 else {
            throw StorageError.unsupported(path: address, feature: "Zarr version \(version) (emflow writes 2 or 3)")
        }
        guard dimensionSeparator == "/" || dimensionSeparator == "." else {
            throw StorageError.unsupported(path: address, feature: "dimension separator '\(dimensionSeparator)' (use \"/\" or \".\")")
        }
        if let shardShape {
            guard version == 3 else {
                throw StorageError.unsupported(path: address, feature: "sharding in Zarr v2 (sharding needs version 3)")
            }
            guard Coordinate.all(shardShape, .zero, >), Coordinate.all(Coordinate.zip(shardShape, chunkShape, %), .zero, ==) else {
                throw StorageError.malformedMetadata(path: address, key: "shardShape", expected: "a positive multiple of the chunk shape \(chunkShape), got \(shardShape)")
            }
        }
    }
}
