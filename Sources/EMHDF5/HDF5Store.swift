import CHDF5
import EMStorage
import EMVolume
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a throwing body until it succeeds once; thread-safe.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func once(_ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        try body()
        done = true
    }
}

/// A volume stored as a dataset of an HDF5 file (`file.h5:volumes/raw`), in the CREMI layout:
/// axes z, y, x, with `resolution` (nm per voxel) and `offset` (nm) attributes.
///
/// Reads: chunked or contiguous datasets of uint8/16/32/64 or float32 in any byte order,
/// compressed with any filter this HDF5 library has (gzip built in; plugins through
/// `HDF5_PLUGIN_PATH`); a 2D dataset reads as a volume of one z section. Any box can be read.
///
/// Writes: chunk-aligned boxes (`checkWritable`). A contiguous dataset reports its whole shape
/// as its chunk shape, so it can only be written whole; the datasets `create` makes are
/// chunked unless the spec asks for raw storage in a single chunk.
///
/// Safety: every operation opens the file, works and closes it, inside an advisory `flock`
/// on the file (shared for reads, exclusive for writes, see `HDF5FileLock`) and the
/// process-wide HDF5 lock. So each write is on disk (in the page cache) when `writeBytes`
/// returns, several threads may share a store, and several processes may write distinct
/// chunks of one file: they take turns, never having the file open for writing at once. HDF5
/// output is therefore serialised; Zarr is the format for parallel output. Opening per
/// operation costs a fraction of a millisecond, small against reading a block of chunks.
public final class HDF5Store: VolumeStore, Sendable {
    /// The file and dataset this store was opened at.
    public let address: StoreAddress
    /// Shape, type, chunking, CREMI placement and filter pipeline of the dataset.
    public let metadata: VolumeMetadata
    /// True when writes are allowed.
    public let isWritable: Bool
    private let description: HDF5DatasetDescription
    /// The chunk index is checked before the first read (`HDF5ChunkIndex`).
    private let indexChecked = OnceFlag()

    /// `file:key`, the name errors use.
    private var label: String { address.description }

    private init(address: StoreAddress, description: HDF5DatasetDescription, writable: Bool) {
        self.address = address
        self.description = description
        self.metadata = description.metadata
        self.isWritable = writable
    }

    /// Opens an existing dataset.
    ///
    /// - Throws: `StorageError.missing` for a missing file or dataset (listing the file's
    ///   volume datasets), `.io` for a file that is not HDF5 or is damaged, `.unsupported` for
    ///   element types, ranks or layouts emflow cannot use, `.malformedMetadata` for bad
    ///   `resolution`/`offset` attributes, `.unwritable` when `writable` and the file is not.
    public static func open(_ address: StoreAddress, writable: Bool = false) throws -> HDF5Store {
        try checkAddress(address)
        let label = address.description
        let description = try HDF5FileLock.withLock(on: address.path, .shared, label: label) { locked in
            try HDF5Library.locked {
                let file = try HDF5Library.openFile(locked, writable: false, at: label)
                defer { H5Fclose(file) }
                let dataset = try openDataset(address, in: file)
                defer { H5Dclose(dataset) }
                return try HDF5DatasetDescription.read(dataset, at: label)
            }
        }
        if writable, access(address.path, W_OK) != 0 {
            throw StorageError.unwritable(path: label, reason: "the file is not writable (\(String(cString: strerror(errno))))")
        }
        return HDF5Store(address: address, description: description, writable: writable)
    }

    /// Creates a dataset for `spec`, creating the file (and its directory) when missing and the
    /// groups on the way to the dataset; other datasets in an existing file are kept.
    ///
    /// The dataset is chunked by `spec.chunkShape` (clipped to the shape) and compressed with
    /// gzip for `.gzip` and `.zlib` (HDF5's deflate filter), or not at all for `.raw`; a raw
    /// spec whose chunk covers the whole volume gives a contiguous dataset. `resolution` and
    /// `offset` attributes (float64, nm, z y x) record the voxel size and origin.
    ///
    /// - Parameter overwrite: replace an existing dataset at the key (only that dataset; HDF5
    ///   does not give the old dataset's space back to the file).
    /// - Throws: `StorageError.unwritable` when the dataset exists and `overwrite` is false, or
    ///   the file or directory cannot be written; `.unsupported` for zstd and blosc.
    public static func create(_ address: StoreAddress, spec: VolumeSpec, overwrite: Bool = false) throws -> HDF5Store {
        try checkAddress(address)
        let label = address.description
        try spec.validate(for: label)
        let chunkShape = Coordinate.minimum(spec.chunkShape, spec.shape)
        guard chunkShape.product * spec.dataType.size < 1 << 32 else {
            throw StorageError.unsupported(path: label, feature: "chunks of \(chunkShape) \(spec.dataType) (HDF5 chunks must be under 4 GiB)")
        }
        let deflateLevel = try HDF5Filter.deflateLevel(for: spec.codec, at: label)

        let directory = URL(fileURLWithPath: address.path).deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw StorageError.unwritable(path: label, reason: "cannot create directory \(directory) (\(error.localizedDescription))") }
        // Several processes may create datasets in one new file at once: the file is made
        // empty under the lock, and whoever gets the lock first on an empty file starts it.
        try HDF5FileLock.withLock(on: address.path, .exclusive, create: true, label: label) { locked in
            try HDF5Library.locked {
                let file = locked.isEmpty ? try HDF5Library.createFile(locked, at: label)
                    : try HDF5Library.openFile(locked, writable: true, at: label)
                do {
                    try createDataset(address, spec: spec, chunkShape: chunkShape, deflateLevel: deflateLevel,
                                      overwrite: overwrite, in: file)
                } catch {
                    H5Fclose(file)
                    throw error
                }
                try HDF5Library.closeFile(file, at: label)
            }
        }
        return try open(address, writable: true)
    }

    /// Paths of the datasets in the HDF5 file at `path` that can be opened as volumes (rank 3,
    /// or rank 2 as one section), in name order, e.g. `["volumes/labels/synapse", "volumes/raw"]`.
    public static func listDatasets(path: String) throws -> [String] {
        try HDF5FileLock.withLock(on: path, .shared, label: path) { locked in
            try HDF5Library.locked {
                let file = try HDF5Library.openFile(locked, writable: false, at: path)
                defer { H5Fclose(file) }
                return try HDF5Objects.volumePaths(in: file, at: path).sorted()
            }
        }
    }

    /// Reads `box` (any box; parts outside follow `outside`) with one hyperslab read.
    public func readBytes(_ box: Box, into buffer: UnsafeMutableRawBufferPointer, outside: OutsidePolicy) throws {
        try checkReadable(box, outside: outside)
        precondition(buffer.count == box.voxelCount * metadata.dataType.size,
                     "read buffer holds \(buffer.count) bytes, box \(box) needs \(box.voxelCount * metadata.dataType.size)")
        let inside = box.intersection(metadata.bounds)
        if inside != box, case let .fill(value) = outside {
            HDF5Transfer.fill(buffer, with: value, as: metadata.dataType)
        }
        guard let inside else { return }
        try withDataset(.shared) { dataset in
            try indexChecked.once { try HDF5ChunkIndex.check(dataset, at: label) }
            try HDF5Transfer.run(.read, dataset: dataset, description: description, region: inside,
                                 buffer: buffer.baseAddress!, bufferBox: box, at: label)
        }
    }

    /// Writes a chunk-aligned `box` with one hyperslab write, holding the file's exclusive lock
    /// from opening to closing the file.
    public func writeBytes(_ box: Box, from buffer: UnsafeRawBufferPointer) throws {
        guard isWritable else {
            throw StorageError.unwritable(path: label, reason: "the store was opened read-only (open it with writable: true)")
        }
        try checkWritable(box, bufferBytes: buffer.count)
        try withDataset(.exclusive) { dataset in
            // HDF5 takes a mutable pointer for both directions; a write only reads from it.
            try HDF5Transfer.run(.write, dataset: dataset, description: description, region: box,
                                 buffer: UnsafeMutableRawPointer(mutating: buffer.baseAddress!), bufferBox: box, at: label)
        }
    }

    /// Every write closes (and so flushes) the file before it returns; `flush` additionally
    /// asks the operating system to put the file on disk (`fsync`).
    public func flush() throws {
        guard isWritable else { return }
        let fd = Glibc.open(address.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io(path: address.path, reason: "cannot open to flush: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError.io(path: address.path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
    }

    /// The size of the whole HDF5 file (other datasets in it included).
    public func bytesOnDisk() throws -> Int64 {
        var status = stat()
        guard stat(address.path, &status) == 0 else {
            throw StorageError.io(path: address.path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        return Int64(status.st_size)
    }

    /// Bytes the dataset's chunks (or contiguous data) take in the file: unlike the file's
    /// size, this does not change when other datasets of the file are written.
    public func datasetStorageBytes() throws -> Int64 {
        var bytes: Int64 = 0
        try withDataset(.shared) { dataset in bytes = Int64(H5Dget_storage_size(dataset)) }
        return bytes
    }

    /// Opens the file (for writing under an exclusive lock) and the dataset, runs `body`, and
    /// closes both, all under the file lock and the HDF5 lock.
    private func withDataset(_ mode: HDF5FileLock.Mode, _ body: (hid_t) throws -> Void) throws {
        let filter = description.unavailableFilter(mandatory: true)
        if let filter { throw HDF5Filter.unavailableError(filter, at: label) }
        try HDF5FileLock.withLock(on: address.path, mode, label: label) { locked in
            try HDF5Library.locked {
                let file = try HDF5Library.openFile(locked, writable: mode == .exclusive, at: label)
                do {
                    let dataset = try HDF5Library.check(H5Dopen2(file, address.key, hid_t(H5P_DEFAULT)), "open the dataset", at: label)
                    defer { H5Dclose(dataset) }
                    try body(dataset)
                } catch {
                    H5Fclose(file)
                    throw error
                }
                try HDF5Library.closeFile(file, at: label)
            }
        }
    }

    /// Checks that an address names a dataset in an HDF5 file.
    private static func checkAddress(_ address: StoreAddress) throws {
        guard address.format == .hdf5 else {
            throw StorageError.badAddress(address: address.description, expected: "an HDF5 address (file.h5:dataset)")
        }
        guard !address.key.isEmpty else {
            throw StorageError.badAddress(address: address.description, expected: "an HDF5 address needs a dataset: \(address.path):volumes/raw")
        }
    }

    /// Opens the dataset at the address's key, explaining a missing key with the file's datasets.
    private static func openDataset(_ address: StoreAddress, in file: hid_t) throws -> hid_t {
        let label = address.description
        let kind = try HDF5Objects.kind(of: address.key, in: file, at: label)
        guard kind == .dataset else {
            let available = try HDF5Objects.volumePaths(in: file, at: label)
            let shown = available.prefix(20).joined(separator: ", ") + (available.count > 20 ? " and \(available.count - 20) more" : "")
            let holds = available.isEmpty ? "the file holds no 2D or 3D datasets" : "datasets in the file: \(shown)"
            let closest = kind == .missing ? Suggestions.closest(to: address.key, among: available) : nil
            let reason = (closest.map { "did you mean '\(address.path):\($0)'? " } ?? "")
                + (kind == .missing ? holds : "'\(address.key)' is a group; \(holds)")
            throw StorageError.missing(path: address.path, what: "dataset '\(address.key)' (\(reason))")
        }
        return try HDF5Library.check(H5Dopen2(file, address.key, hid_t(H5P_DEFAULT)), "open the dataset", at: label)
    }

    /// Makes the dataset for `spec` in an open file (replacing one when `overwrite`).
    private static func createDataset(_ address: StoreAddress, spec: VolumeSpec, chunkShape: Coordinate, deflateLevel: UInt32?,
                                      overwrite: Bool, in file: hid_t) throws {
        let label = address.description
        switch try HDF5Objects.kind(of: address.key, in: file, at: label) {
        case .missing:
            break
        case .dataset:
            guard overwrite else { throw StorageError.unwritable(path: label, reason: "the dataset exists (pass overwrite to replace it)") }
            try HDF5Library.check(H5Ldelete(file, address.key, hid_t(H5P_DEFAULT)), "delete the existing dataset", at: label)
        case .group, .other:
            throw StorageError.unwritable(path: label, reason: "'\(address.key)' exists and is not a dataset (overwrite replaces datasets only)")
        }

        let dcpl = try HDF5Library.check(H5Pcreate(emflow_H5P_DATASET_CREATE()), "create dataset properties", at: label)
        defer { H5Pclose(dcpl) }
        if spec.codec == .raw && chunkShape == spec.shape {
            try HDF5Library.check(H5Pset_layout(dcpl, H5D_CONTIGUOUS), "set a contiguous layout", at: label)
        } else {
            var chunks = chunkShape.components.map { hsize_t($0) }
            try HDF5Library.check(H5Pset_chunk(dcpl, 3, &chunks), "set the chunk shape \(chunkShape)", at: label)
            if let deflateLevel {
                try HDF5Library.check(H5Pset_deflate(dcpl, deflateLevel), "set gzip compression", at: label)
            }
        }
        let fill = spec.fillValue.elementBytes(as: spec.dataType)
        try HDF5Library.check(H5Pset_fill_value(dcpl, spec.dataType.hdf5MemoryType, fill), "set the fill value", at: label)

        let lcpl = try HDF5Library.check(H5Pcreate(emflow_H5P_LINK_CREATE()), "create link properties", at: label)
        defer { H5Pclose(lcpl) }
        try HDF5Library.check(H5Pset_create_intermediate_group(lcpl, 1), "ask for intermediate groups", at: label)

        var extent = spec.shape.components.map { hsize_t($0) }
        let space = try HDF5Library.check(H5Screate_simple(3, &extent, nil), "create the dataset's shape", at: label)
        defer { H5Sclose(space) }
        let dataset = try HDF5Library.check(
            H5Dcreate2(file, address.key, spec.dataType.hdf5FileType, space, lcpl, dcpl, hid_t(H5P_DEFAULT)),
            "create the dataset", at: label)
        defer { H5Dclose(dataset) }
        try HDF5Attributes.writeNumbers(HDF5Attributes.resolution, spec.voxelSize.components, on: dataset, at: label)
        try HDF5Attributes.writeNumbers(HDF5Attributes.offset, spec.origin.components, on: dataset, at: label)
    }
}
