import CHDF5
import EMStorage
import EMVolume

/// The CREMI layout's `resolution` (nm per voxel) and `offset` (nm) attributes: numeric
/// arrays on the dataset, axes z, y, x, stored as float64 or as integers.
enum HDF5Attributes {
    /// Name of the voxel-size attribute.
    static let resolution = "resolution"
    /// Name of the world-origin attribute.
    static let offset = "offset"

    /// Reads a numeric array attribute as doubles, or nil when the object has no such attribute.
    ///
    /// - Throws: `StorageError.malformedMetadata` when it is not numeric or its length is not
    ///   one of `counts`.
    static func readNumbers(_ name: String, of object: hid_t, counts: Set<Int>, at label: String) throws -> [Double]? {
        let exists = H5Aexists(object, name)
        try HDF5Library.check(herr_t(exists), "look for attribute '\(name)'", at: label)
        guard exists > 0 else { return nil }
        let attribute = try HDF5Library.check(H5Aopen(object, name, hid_t(H5P_DEFAULT)), "open attribute '\(name)'", at: label)
        defer { H5Aclose(attribute) }
        let expected = "\(counts.sorted().map(String.init).joined(separator: " or ")) numbers (nm, axes z y x)"
        let type = try HDF5Library.check(H5Aget_type(attribute), "read the type of attribute '\(name)'", at: label)
        let typeClass = H5Tget_class(type)
        H5Tclose(type)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
            throw StorageError.malformedMetadata(path: label, key: name, expected: "\(expected), found a non-numeric attribute")
        }
        let space = try HDF5Library.check(H5Aget_space(attribute), "read the shape of attribute '\(name)'", at: label)
        let count = Int(H5Sget_simple_extent_npoints(space))
        H5Sclose(space)
        guard counts.contains(count) else {
            throw StorageError.malformedMetadata(path: label, key: name, expected: "\(expected), found \(count)")
        }
        var values = [Double](repeating: 0, count: count)
        try HDF5Library.check(H5Aread(attribute, emflow_H5T_NATIVE_DOUBLE(), &values), "read attribute '\(name)'", at: label)
        guard values.allSatisfy(\.isFinite) else {
            throw StorageError.malformedMetadata(path: label, key: name, expected: "\(expected), found \(values)")
        }
        return values
    }

    /// Writes (replacing) a float64 array attribute.
    static func writeNumbers(_ name: String, _ values: [Double], on object: hid_t, at label: String) throws {
        if H5Aexists(object, name) > 0 {
            try HDF5Library.check(H5Adelete(object, name), "replace attribute '\(name)'", at: label)
        }
        var extent = [hsize_t(values.count)]
        let space = try HDF5Library.check(H5Screate_simple(1, &extent, nil), "create the shape of attribute '\(name)'", at: label)
        defer { H5Sclose(space) }
        let attribute = try HDF5Library.check(
            H5Acreate2(object, name, emflow_H5T_IEEE_F64LE(), space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)),
            "create attribute '\(name)'", at: label)
        defer { H5Aclose(attribute) }
        try HDF5Library.check(H5Awrite(attribute, emflow_H5T_NATIVE_DOUBLE(), values), "write attribute '\(name)'", at: label)
    }

    /// Voxel size and origin of a dataset of `rank` 2 or 3: missing attributes give 1 nm and
    /// the world origin; a 2D dataset may carry 2 (y, x) or 3 values.
    static func placement(of dataset: hid_t, rank: Int, at label: String) throws -> (VoxelSize, WorldPoint) {
        let counts: Set<Int> = rank == 2 ? [2, 3] : [3]
        func padded(_ values: [Double], z: Double) -> [Double] { values.count == 2 ? [z] + values : values }
        var voxelSize = VoxelSize.unit
        if let r = try readNumbers(resolution, of: dataset, counts: counts, at: label).map({ padded($0, z: 1) }) {
            guard r.allSatisfy({ $0 > 0 }) else {
                throw StorageError.malformedMetadata(path: label, key: resolution, expected: "positive voxel sizes in nm (z y x), found \(r)")
            }
            voxelSize = VoxelSize(r[0], r[1], r[2])
        }
        var origin = WorldPoint.zero
        if let o = try readNumbers(offset, of: dataset, counts: counts, at: label).map({ padded($0, z: 0) }) {
            origin = WorldPoint(o[0], o[1], o[2])
        }
        return (voxelSize, origin)
    }
}
