import EMStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock (`flock(2)`) on an HDF5 file itself, taken around every open-use-close of
/// the file: shared for reads, exclusive for writes.
///
/// Every emflow operation on an HDF5 file opens it, works and closes it inside this lock, so
/// that two processes never have one file open for writing at once and a reader never sees a
/// half-written file. Writers from several processes (Slurm workers writing distinct chunks
/// of one output) therefore take turns: HDF5 output is serialised, and Zarr is the format for
/// parallel output. HDF5's own locking is switched off in emflow's opens (see
/// `HDF5Library.fileAccessProperties`); since HDF5 (and h5py) lock with `flock` on the file
/// too, an emflow writer also waits while another program holds the file open with locking.
///
/// On file systems without locks (`ENOLCK`, `ENOSYS`, `EOPNOTSUPP`, e.g. NFS mounted with
/// `nolock`) the operation goes ahead unlocked, as HDF5's "best effort" locking does; writers
/// in several processes are then not protected. NFS clients emulate `flock` with POSIX locks,
/// which the kernel drops when HDF5 closes its own descriptor of the file: that happens at
/// the end of each operation, after everything is written, so the protection still holds.
///
/// The lock must be taken before `HDF5Library.locked`, never inside it, so that a thread
/// waiting for another process never holds up the HDF5 calls of the other threads.
struct HDF5FileLock {
    /// Shared (readers) or exclusive (writers).
    enum Mode { case shared, exclusive }

    /// The locked file.
    let path: String
    /// The descriptor holding the lock; it is also used to look at the file without opening
    /// it again (with POSIX-emulated locks, closing another descriptor would drop the lock).
    private let descriptor: Int32

    /// Runs `body` holding the lock on `path`; `create` makes the file (empty) when missing.
    ///
    /// - Throws: `StorageError.missing` for a missing file, `StorageError.unwritable` when an
    ///   exclusive lock needs a file that cannot be opened for writing.
    static func withLock<R>(on path: String, _ mode: Mode, create: Bool = false, label: String,
                            _ body: (HDF5FileLock) throws -> R) throws -> R {
        // NFS emulates flock with POSIX locks, where an exclusive lock needs a writable descriptor.
        var flags = (mode == .exclusive ? O_RDWR : O_RDONLY) | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else {
            let code = errno
            let reason = String(cString: strerror(code))
            if code == ENOENT { throw StorageError.missing(path: path, what: "HDF5 file") }
            if mode == .exclusive { throw StorageError.unwritable(path: label, reason: reason) }
            throw StorageError.io(path: path, reason: "cannot open the file: \(reason)")
        }
        defer { close(fd) } // closing the descriptor releases the lock
        while flock(fd, mode == .exclusive ? LOCK_EX : LOCK_SH) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOLCK || code == ENOSYS || code == EOPNOTSUPP { break }
            throw StorageError.io(path: path, reason: "cannot lock the file: \(String(cString: strerror(code)))")
        }
        return try body(HDF5FileLock(path: path, descriptor: fd))
    }

    /// True when the file has no bytes (just created, or left so by a crash).
    var isEmpty: Bool {
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_size == 0
    }

    /// True when the file carries the HDF5 signature where HDF5 looks for it.
    var hasHDF5Signature: Bool { HDF5Signature.isPresent(inFileDescriptor: descriptor) }
}
