import EMStorage
import EMVolume

/// OME-Zarr `multiscales` metadata on the group that holds an array: version 0.4 (attributes
/// `multiscales`, used with Zarr v2) and 0.5 (attributes `ome.multiscales`, Zarr v3). emflow
/// reads the voxel size and origin of one dataset from it and writes one multiscale entry per
/// array it creates (a single scale level: the array itself) or per pyramid it builds (every
/// level), so napari and neuroglancer place them.
enum OMEMultiscales {
    /// Nanometres per unit for the OME-NGFF space units emflow understands.
    private static let nanometresPerUnit: [String: Double] = [
        "nanometer": 1, "micrometer": 1_000, "millimeter": 1_000_000, "angstrom": 0.1, "picometer": 0.001,
    ]

    /// The voxel size and origin (nm) of dataset `arrayName`, or nil when no multiscale lists it.
    ///
    /// - Throws: `StorageError.malformedMetadata` naming `path` and the key for a listed dataset
    ///   whose axes or transformations do not parse.
    static func placement(in attributes: JSONObject, arrayName: String, path: String) throws -> (VoxelSize, WorldPoint)? {
        let top = MetadataReader(attributes, path: path)
        let list: MetadataReader
        if let ome = try top.optionalObject("ome"), ome.optional("multiscales") != nil { list = ome }
        else if top.optional("multiscales") != nil { list = top }
        else { return nil }
        for multiscale in try list.objects("multiscales") {
            for dataset in try multiscale.objects("datasets") where try dataset.optionalString("path") == arrayName {
                let units = try axisUnits(multiscale)
                var (scale, translation) = try transforms(dataset, "coordinateTransformations")
                if multiscale.optional("coordinateTransformations") != nil {
                    let (outerScale, outerTranslation) = try transforms(multiscale, "coordinateTransformations")
                    for axis in 0..<3 {
                        translation[axis] = outerScale[axis] * translation[axis] + outerTranslation[axis]
                        scale[axis] *= outerScale[axis]
                    }
                }
                let s = (0..<3).map { scale[$0] * units[$0] }, t = (0..<3).map { translation[$0] * units[$0] }
                return (VoxelSize(s[0], s[1], s[2]), WorldPoint(t[0], t[1], t[2]))
            }
        }
        return nil
    }

    /// Nanometres per unit of each axis (1 where no unit is given).
    private static func axisUnits(_ multiscale: MetadataReader) throws -> [Double] {
        guard multiscale.optional("axes") != nil else { return [1, 1, 1] }
        let axes = try multiscale.array("axes")
        guard axes.count == 3 else {
            throw multiscale.malformed("axes", "3 axes (z, y, x) for a 3-dimensional array, got \(axes.count)")
        }
        return try axes.enumerated().map { i, axis in
            guard case let .object(object) = axis else { return 1 }  // OME 0.3 listed axis names only
            let reader = MetadataReader(object, path: multiscale.path, keyPath: multiscale.name("axes[\(i)]"))
            if let type = try reader.optionalString("type"), type != "space" {
                throw reader.malformed("type", "\"space\" (emflow reads z, y, x volumes), got \"\(type)\"")
            }
            guard let unit = try reader.optionalString("unit") else { return 1 }
            guard let factor = nanometresPerUnit[unit] else {
                throw reader.malformed("unit", "one of \(nanometresPerUnit.keys.sorted().joined(separator: ", ")), got \"\(unit)\"")
            }
            return factor
        }
    }

    /// The scale and translation of a `coordinateTransformations` list.
    private static func transforms(_ owner: MetadataReader, _ key: String) throws -> ([Double], [Double]) {
        var scale = [1.0, 1, 1], translation = [0.0, 0, 0]
        for transform in try owner.objects(key) {
            switch try transform.string("type") {
            case "scale": scale = try transform.numberTriple("scale", "scale per axis")
            case "translation": translation = try transform.numberTriple("translation", "translation per axis")
            case "identity": break
            case let other: throw transform.malformed("type", "\"scale\", \"translation\" or \"identity\", got \"\(other)\"")
            }
        }
        return (scale, translation)
    }

    /// Group attributes with the multiscale entry of `arrayName` replaced (or added): version
    /// 0.4 under `multiscales` for Zarr v2, 0.5 under `ome` for Zarr v3. Other attributes and
    /// other arrays' entries are kept.
    static func updating(_ attributes: JSONObject, arrayName: String, voxelSize: VoxelSize, origin: WorldPoint, zarrVersion: Int) -> JSONObject {
        updating(attributes, name: arrayName, levels: [ScaleLevel(path: arrayName, voxelSize: voxelSize, origin: origin)], zarrVersion: zarrVersion)
    }

    /// Group attributes with one multiscale entry called `name` listing `levels`, finest
    /// first; entries listing any of the levels' arrays are replaced, everything else is kept.
    static func updating(_ attributes: JSONObject, name: String, levels: [ScaleLevel], zarrVersion: Int) -> JSONObject {
        var entry: [(String, JSONValue)] = []
        if zarrVersion == 2 { entry.append(("version", .string("0.4"))) }
        entry += [
            ("name", .string(name)),
            ("axes", .array(["z", "y", "x"].map { name in
                .object(JSONObject([("name", .string(name)), ("type", .string("space")), ("unit", .string("nanometer"))]))
            })),
            ("datasets", .array(levels.map { level in .object(JSONObject([
                ("path", .string(level.path)),
                ("coordinateTransformations", .array([
                    .object(JSONObject([("type", .string("scale")), ("scale", JSONValue(level.voxelSize.components))])),
                    .object(JSONObject([("type", .string("translation")), ("translation", JSONValue(level.origin.components))])),
                ])),
            ])) })),
        ]
        let paths = Set(levels.map(\.path))
        var result = attributes
        if zarrVersion == 2 {
            result["multiscales"] = .array(otherEntries(attributes["multiscales"], paths) + [.object(JSONObject(entry))])
        } else {
            var ome: JSONObject
            if case let .object(existing)? = attributes["ome"] { ome = existing } else { ome = JSONObject() }
            ome["version"] = .string("0.5")
            ome["multiscales"] = .array(otherEntries(ome["multiscales"], paths) + [.object(JSONObject(entry))])
            result["ome"] = .object(ome)
        }
        return result
    }

    /// The multiscale entries of a list that list none of `paths` as a dataset.
    private static func otherEntries(_ list: JSONValue?, _ paths: Set<String>) -> [JSONValue] {
        guard case let .array(entries)? = list else { return [] }
        return entries.filter { entry in
            guard case let .object(object) = entry, case let .array(datasets)? = object["datasets"] else { return true }
            return !datasets.contains { dataset in
                if case let .object(d) = dataset, case let .string(path)? = d["path"] { return paths.contains(path) }
                return false
            }
        }
    }
}

/// One level of a multiscale pyramid: the array's path in its group and where its voxels lie.
public struct ScaleLevel: Hashable, Sendable {
    /// The array's name in the group (e.g. `0`, `1`, ...).
    public var path: String
    /// Nanometres per voxel at this level.
    public var voxelSize: VoxelSize
    /// World position (nm) of the centre of the level's voxel (0, 0, 0).
    public var origin: WorldPoint

    /// Creates a level.
    public init(path: String, voxelSize: VoxelSize, origin: WorldPoint) {
        self.path = path
        self.voxelSize = voxelSize
        self.origin = origin
    }
}

extension ZarrStore {
    /// Describes the arrays `levels` of the Zarr group at `group` as one OME-Zarr multiscale
    /// pyramid called `name` (0.4 for a v2 group, 0.5 for v3), finest level first, so that
    /// neuroglancer and napari show them as the scales of one image.
    public static func writeMultiscales(group: String, name: String, levels: [ScaleLevel], zarrVersion: Int) throws {
        let attributes = try ZarrHierarchy.attributes(at: group, version: zarrVersion)
        try ZarrHierarchy.setGroupAttributes(OMEMultiscales.updating(attributes, name: name, levels: levels, zarrVersion: zarrVersion),
                                             at: group, version: zarrVersion)
    }
}
