import CHDF5
import EMStorage
import EMVolume

/// Moves a box of voxels between an open dataset and a dense z, y, x buffer with hyperslab
/// selections on both sides, so no intermediate copy is made.
enum HDF5Transfer {
    /// Reading from the file or writing to it.
    enum Direction { case read, write }

    /// Transfers `region` (inside the volume) between `dataset` and a buffer covering
    /// `bufferBox` (which contains `region`).
    ///
    /// - Parameters:
    ///   - description: the dataset as it was when the store opened it; a dataset whose shape
    ///     or type has changed since (replaced by `create(overwrite:)`) is refused.
    static func run(_ direction: Direction, dataset: hid_t, description: HDF5DatasetDescription,
                    region: Box, buffer: UnsafeMutableRawPointer, bufferBox: Box, at label: String) throws {
        let metadata = description.metadata
        try checkUnchanged(dataset, description, at: label)

        let fileSpace = try HDF5Library.check(H5Dget_space(dataset), "read the dataset's shape", at: label)
        defer { H5Sclose(fileSpace) }
        // A 2D dataset is one z section: its selection drops the z axis.
        let axes = description.fileRank == 2 ? [1, 2] : [0, 1, 2]
        var fileStart = axes.map { hsize_t(region.offset[$0]) }
        var fileCount = axes.map { hsize_t(region.shape[$0]) }
        try HDF5Library.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &fileStart, nil, &fileCount, nil),
                              "select \(region) in the dataset", at: label)

        var memoryExtent = bufferBox.shape.components.map { hsize_t($0) }
        let memorySpace = try HDF5Library.check(H5Screate_simple(3, &memoryExtent, nil), "create the memory selection", at: label)
        defer { H5Sclose(memorySpace) }
        var memoryStart = (region.offset - bufferBox.offset).components.map { hsize_t($0) }
        var memoryCount = region.shape.components.map { hsize_t($0) }
        try HDF5Library.check(H5Sselect_hyperslab(memorySpace, H5S_SELECT_SET, &memoryStart, nil, &memoryCount, nil),
                              "select \(region) in memory", at: label)

        let memoryType = metadata.dataType.hdf5MemoryType
        let status: herr_t
        switch direction {
        case .read: status = H5Dread(dataset, memoryType, memorySpace, fileSpace, hid_t(H5P_DEFAULT), buffer)
        case .write: status = H5Dwrite(dataset, memoryType, memorySpace, fileSpace, hid_t(H5P_DEFAULT), buffer)
        }
        guard status >= 0 else {
            let failure = HDF5Library.failure(direction == .read ? "read \(region)" : "write \(region)", at: label)
            // A chunk passed through an optional filter this library lacks reads only with it.
            if let filter = description.unavailableFilter(mandatory: false) { throw HDF5Filter.unavailableError(filter, at: label) }
            throw failure
        }
    }

    /// Throws when the dataset's shape or element type differs from what the store opened.
    private static func checkUnchanged(_ dataset: hid_t, _ description: HDF5DatasetDescription, at label: String) throws {
        let metadata = description.metadata
        let extent = try HDF5DatasetDescription.extent(of: dataset, at: label)
        let expected = description.fileRank == 2 ? [metadata.shape.y, metadata.shape.x] : metadata.shape.components
        let type = try HDF5Library.check(H5Dget_type(dataset), "read the dataset's type", at: label)
        defer { H5Tclose(type) }
        let dataType = try DataType.ofHDF5Type(type, at: label)
        guard extent == expected, dataType == metadata.dataType else {
            func shape(_ values: [Int]) -> String { values.map(String.init).joined(separator: "x") }
            throw StorageError.io(path: label, reason: "the dataset changed since it was opened: now \(dataType) of shape"
                + " \(shape(extent)), expected \(metadata.dataType) of shape \(shape(expected)); open it again")
        }
    }

    /// Sets every element of a dense buffer of `type` to `value`.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, with value: VoxelValue, as type: DataType) {
        value.fill(buffer.baseAddress!, count: buffer.count / type.size, as: type)
    }
}
