import CHDF5
import EMStorage
import Foundation

/// A check of a chunked dataset's chunk index against the chunk grid.
///
/// The HDF5 library linked here (1.10) looks chunks up by the coordinates stored in the index
/// and reads a chunk whose entry it cannot find as the fill value; newer libraries (and so
/// h5py) refuse an index whose coordinates are off the grid. A damaged index would therefore
/// read as zeros without a word. The check counts the chunks found at the grid's positions
/// and compares them with the number of entries the index holds: a difference means entries
/// that no lookup reaches, i.e. a damaged file.
enum HDF5ChunkIndex {
    /// Throws `StorageError.corruptChunk` when the index of the chunked `dataset` holds entries
    /// that are not at chunk positions of its grid. Contiguous datasets pass.
    ///
    /// Costs one index lookup per chunk of the grid (done once per opened store).
    static func check(_ dataset: hid_t, at label: String) throws {
        let dcpl = try HDF5Library.check(H5Dget_create_plist(dataset), "read the dataset's layout", at: label)
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return }
        let space = try HDF5Library.check(H5Dget_space(dataset), "read the dataset's shape", at: label)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        var chunk = [hsize_t](repeating: 0, count: rank)
        try HDF5Library.check(herr_t(H5Pget_chunk(dcpl, Int32(rank), &chunk)), "read the dataset's chunk shape", at: label)
        var listed: hsize_t = 0
        try HDF5Library.check(H5Dget_num_chunks(dataset, space, &listed), "count the dataset's chunks", at: label)
        guard listed > 0 else { return }
        let counts = zip(dims, chunk).map { ($0 + $1 - 1) / max($1, 1) }
        var index = [hsize_t](repeating: 0, count: rank)
        var offset = [hsize_t](repeating: 0, count: rank)
        var found: hsize_t = 0
        var filterMask: UInt32 = 0, address: haddr_t = 0, size: hsize_t = 0
        outer: while true {
            for axis in 0..<rank { offset[axis] = index[axis] * chunk[axis] }
            if H5Dget_chunk_info_by_coord(dataset, &offset, &filterMask, &address, &size) >= 0, address != haddr_t.max {
                found += 1
            }
            var axis = rank - 1
            while true {
                index[axis] += 1
                if index[axis] < counts[axis] { break }
                index[axis] = 0
                if axis == 0 { break outer }
                axis -= 1
            }
        }
        guard found == listed else {
            throw StorageError.corruptChunk(path: label, reason: "the chunk index lists \(listed) chunks but \(found) of them are at chunk positions of the \(dims.map(String.init).joined(separator: "x")) grid: the file is damaged (h5py refuses it as well); restore it from a copy")
        }
    }
}
