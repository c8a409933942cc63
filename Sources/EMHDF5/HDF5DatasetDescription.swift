import CHDF5
import EMStorage
import EMVolume

/// What emflow needs to know about an HDF5 dataset to use it as a volume.
struct HDF5DatasetDescription {
    /// Shape, type, chunking, placement and codec as the store reports them.
    var metadata: VolumeMetadata
    /// Axes of the dataset in the file: 3 (z, y, x) or 2 (y, x, presented as one z section).
    var fileRank: Int
    /// The filter pipeline.
    var filters: [HDF5Filter]

    /// Reads the description of an open dataset.
    ///
    /// - Throws: `StorageError.unsupported` for element types other than uint8/16/32/64 and
    ///   float32, for ranks other than 2 and 3, and for empty datasets;
    ///   `StorageError.malformedMetadata` for unusable `resolution`/`offset` attributes.
    static func read(_ dataset: hid_t, at label: String) throws -> HDF5DatasetDescription {
        let type = try HDF5Library.check(H5Dget_type(dataset), "read the dataset's type", at: label)
        defer { H5Tclose(type) }
        let dataType = try DataType.ofHDF5Type(type, at: label)

        let fileShape = try extent(of: dataset, at: label)
        let rank = fileShape.count
        guard rank == 2 || rank == 3 else {
            let shape = rank == 0 ? "a scalar" : "shape \(fileShape.map(String.init).joined(separator: "x"))"
            throw StorageError.unsupported(path: label, feature: "a dataset of rank \(rank) (\(shape)); volumes are 3D"
                + " (z, y, x), or 2D (y, x) read as a single section")
        }
        guard fileShape.allSatisfy({ $0 > 0 }) else {
            throw StorageError.unsupported(path: label, feature: "an empty dataset (shape \(fileShape.map(String.init).joined(separator: "x")))")
        }
        let shape = volumeCoordinate(fileShape, pad: 1)

        let dcpl = try HDF5Library.check(H5Dget_create_plist(dataset), "read the dataset's creation properties", at: label)
        defer { H5Pclose(dcpl) }
        var chunkShape = shape
        if H5Pget_layout(dcpl) == H5D_CHUNKED {
            var chunks = [hsize_t](repeating: 0, count: rank)
            try HDF5Library.check(herr_t(H5Pget_chunk(dcpl, Int32(rank), &chunks)), "read the dataset's chunk shape", at: label)
            chunkShape = volumeCoordinate(chunks.map(Int.init), pad: 1)
        }
        let filters = try HDF5Filter.pipeline(of: dcpl, at: label)
        let (voxelSize, origin) = try HDF5Attributes.placement(of: dataset, rank: rank, at: label)
        let metadata = VolumeMetadata(shape: shape, dataType: dataType, chunkShape: chunkShape, voxelSize: voxelSize,
                                      origin: origin, codec: HDF5Filter.describe(filters),
                                      fillValue: try fillValue(of: dcpl, dataType: dataType, at: label))
        return HDF5DatasetDescription(metadata: metadata, fileRank: rank, filters: filters)
    }

    /// The dataset's extent in the file, one entry per axis.
    static func extent(of dataset: hid_t, at label: String) throws -> [Int] {
        let space = try HDF5Library.check(H5Dget_space(dataset), "read the dataset's shape", at: label)
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        try HDF5Library.check(herr_t(rank), "read the dataset's rank", at: label)
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try HDF5Library.check(H5Sget_simple_extent_dims(space, &dims, nil), "read the dataset's shape", at: label)
        return dims.map(Int.init)
    }

    /// A file-axes extent as a z, y, x coordinate (a 2D extent gets `pad` on z).
    private static func volumeCoordinate(_ values: [Int], pad: Int) -> Coordinate {
        values.count == 2 ? Coordinate(pad, values[0], values[1]) : Coordinate(values[0], values[1], values[2])
    }

    /// The dataset's fill value (0 when none is defined), read as the dataset's own element
    /// type so that uint64 values beyond 2^53 stay exact.
    private static func fillValue(of dcpl: hid_t, dataType: DataType, at label: String) throws -> VoxelValue {
        var status = H5D_FILL_VALUE_UNDEFINED
        try HDF5Library.check(H5Pfill_value_defined(dcpl, &status), "read the dataset's fill value", at: label)
        guard status != H5D_FILL_VALUE_UNDEFINED else { return 0 }
        func read<T: VoxelScalar>(_: T.Type) throws -> VoxelValue {
            var value = T.zero
            try withUnsafeMutableBytes(of: &value) {
                _ = try HDF5Library.check(H5Pget_fill_value(dcpl, dataType.hdf5MemoryType, $0.baseAddress), "read the dataset's fill value", at: label)
            }
            return VoxelValue(value)
        }
        switch dataType {
        case .uint8: return try read(UInt8.self)
        case .uint16: return try read(UInt16.self)
        case .uint32: return try read(UInt32.self)
        case .uint64: return try read(UInt64.self)
        case .float32: return try read(Float.self)
        }
    }

    /// The first filter this library cannot run, if any; `mandatory` limits the search to
    /// filters every chunk must pass through (an optional one is skipped by writers lacking it).
    func unavailableFilter(mandatory: Bool) -> HDF5Filter? {
        filters.first { !$0.isAvailable && !(mandatory && $0.isOptional) }
    }
}
