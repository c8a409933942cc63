import CHDF5
import EMStorage

/// Finding datasets and groups inside an open HDF5 file.
enum HDF5Objects {
    /// The kind of object at a path inside a file.
    enum Kind { case missing, dataset, group, other }

    /// What `key` (e.g. `volumes/labels/synapse`) names in `file`. Each intermediate link is
    /// checked in turn, because HDF5 fails rather than answering "no" when a parent is missing.
    static func kind(of key: String, in file: hid_t, at label: String) throws -> Kind {
        let components = key.split(separator: "/").map(String.init)
        guard !components.isEmpty else { return .group }
        for end in 1...components.count {
            let prefix = components.prefix(end).joined(separator: "/")
            let exists = H5Lexists(file, prefix, hid_t(H5P_DEFAULT))
            try HDF5Library.check(herr_t(exists), "look up '\(prefix)'", at: label)
            guard exists > 0 else { return .missing }
            // A soft link to nowhere exists as a link but names no object.
            let objectExists = H5Oexists_by_name(file, prefix, hid_t(H5P_DEFAULT))
            guard objectExists > 0 else { return .missing }
        }
        var info = H5O_info_t()
        try HDF5Library.check(H5Oget_info_by_name2(file, key, &info, UInt32(H5O_INFO_BASIC), hid_t(H5P_DEFAULT)),
                              "read the object at '\(key)'", at: label)
        switch info.type {
        case H5O_TYPE_DATASET: return .dataset
        case H5O_TYPE_GROUP: return .group
        default: return .other
        }
    }

    /// Paths of every dataset in `file`, in name order.
    static func datasetPaths(in file: hid_t, at label: String) throws -> [String] {
        final class Paths { var items: [String] = [] }
        let paths = Paths()
        let visit: H5O_iterate_t = { _, name, info, context in
            guard let name, let info, let context else { return 0 }
            if info.pointee.type == H5O_TYPE_DATASET {
                Unmanaged<Paths>.fromOpaque(context).takeUnretainedValue().items.append(String(cString: name))
            }
            return 0
        }
        try withExtendedLifetime(paths) {
            try HDF5Library.check(H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, visit, Unmanaged.passUnretained(paths).toOpaque(),
                                            UInt32(H5O_INFO_BASIC)),
                                  "list the datasets of the file", at: label)
        }
        return paths.items
    }

    /// The rank (number of axes) of a dataset's dataspace; 0 for a scalar.
    static func rank(of dataset: hid_t, at label: String) throws -> Int {
        let space = try HDF5Library.check(H5Dget_space(dataset), "read the dataset's shape", at: label)
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        try HDF5Library.check(herr_t(rank), "read the dataset's rank", at: label)
        return Int(rank)
    }

    /// Paths of the datasets emflow can open as volumes (rank 3, or rank 2 as one section);
    /// datasets that do not open (e.g. external links to missing files) are left out.
    static func volumePaths(in file: hid_t, at label: String) throws -> [String] {
        try datasetPaths(in: file, at: label).filter { path in
            let dataset = H5Dopen2(file, path, hid_t(H5P_DEFAULT))
            guard dataset >= 0 else { return false }
            defer { H5Dclose(dataset) }
            return (try? rank(of: dataset, at: label)).map { [2, 3].contains($0) } ?? false
        }
    }
}
