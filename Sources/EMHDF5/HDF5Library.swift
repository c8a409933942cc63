import CHDF5
import EMStorage
import Foundation

/// Process-wide access to the HDF5 C library.
///
/// The serial HDF5 library is not safe to call from several threads at once (Debian's build
/// happens to be compiled thread-safe, other builds are not), so every HDF5 call in the
/// process runs inside `locked`. Failures are turned into `StorageError`s carrying HDF5's own
/// error-stack messages; HDF5's automatic printing to stderr is switched off.
enum HDF5Library {
    private static let lock = NSRecursiveLock()
    private static let opened: Void = {
        // emflow takes HDF5's kind of lock (flock on the file) itself, waiting where HDF5's
        // non-blocking one would fail; HDF5's own lock would then collide with it. The
        // environment variable overrides the file-access property, so it is set for this
        // process (only if the user asked for locking: HDF5 1.10 reads it at each open).
        if let value = getenv("HDF5_USE_FILE_LOCKING").map({ String(cString: $0) }), !["FALSE", "0"].contains(value) {
            setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1)
        }
        _ = H5open()
    }()

    /// Runs `body` holding the process-wide HDF5 lock.
    static func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = opened
        // Error reporting settings are per thread in thread-safe builds: set them every time.
        H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
        return try body()
    }

    /// The messages on HDF5's error stack, from the failed API call down to the most specific
    /// cause, joined into one line (empty when the stack is empty). Call right after a failure.
    static func errorStackMessage() -> String {
        final class Lines { var items: [String] = [] }
        let lines = Lines()
        let visit: H5E_walk2_t = { _, error, context in
            guard let error, let context, let text = error.pointee.desc else { return 0 }
            let lines = Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue()
            let line = String(cString: text)
            if !line.isEmpty, lines.items.last != line { lines.items.append(line) }
            return 0
        }
        withExtendedLifetime(lines) {
            _ = H5Ewalk2(hid_t(H5E_DEFAULT), H5E_WALK_DOWNWARD, visit, Unmanaged.passUnretained(lines).toOpaque())
        }
        // The outermost message says what failed, the innermost ones why.
        let items = lines.items
        if items.count <= 4 { return items.joined(separator: ": ") }
        return ([items[0]] + items.suffix(3)).joined(separator: ": ")
    }

    /// The error for a failed HDF5 call: `what` failed, with HDF5's explanation.
    static func failure(_ what: String, at label: String) -> StorageError {
        let stack = errorStackMessage()
        // A structure version this library does not know means a newer file format, not damage.
        if stack.contains("version number") || stack.contains("bad version") {
            var (major, minor, release): (UInt32, UInt32, UInt32) = (0, 0, 0)
            H5get_libversion(&major, &minor, &release)
            return .unsupported(path: label, feature: "an HDF5 file format newer than the linked libhdf5 \(major).\(minor).\(release) reads (HDF5 could not \(what): \(stack)); rewrite the file for older readers, e.g. h5py.File(path, libver=('earliest', 'v110')) or h5repack")
        }
        return .io(path: label, reason: stack.isEmpty ? "HDF5 could not \(what)" : "HDF5 could not \(what) (\(stack))")
    }

    /// Returns `id` when it is a valid identifier, else throws naming `what`.
    @discardableResult
    static func check(_ id: hid_t, _ what: String, at label: String) throws -> hid_t {
        guard id >= 0 else { throw failure(what, at: label) }
        return id
    }

    /// Throws naming `what` when an HDF5 status is negative.
    static func check(_ status: herr_t, _ what: String, at label: String) throws {
        guard status >= 0 else { throw failure(what, at: label) }
    }

    /// The file-access properties every open uses: HDF5's own file locking off (emflow takes
    /// its own advisory lock, see `HDF5FileLock`, and HDF5's non-blocking lock on a second
    /// descriptor of the same file would fail against it), and closing a file closes
    /// everything in it.
    static func fileAccessProperties(at label: String) throws -> hid_t {
        let fapl = try check(H5Pcreate(emflow_H5P_FILE_ACCESS()), "create file-access properties", at: label)
        do {
            try check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "set the file close degree", at: label)
            try check(H5Pset_file_locking(fapl, false, true), "switch off HDF5 file locking", at: label)
        } catch {
            H5Pclose(fapl)
            throw error
        }
        return fapl
    }

    /// Opens an existing, locked file (`H5F_ACC_RDONLY` or `H5F_ACC_RDWR`), after checking
    /// that it is an HDF5 file so that other files get a clear message.
    static func openFile(_ file: HDF5FileLock, writable: Bool, at label: String) throws -> hid_t {
        guard file.hasHDF5Signature else {
            throw StorageError.io(path: file.path, reason: "not an HDF5 file (no HDF5 signature found); expected an HDF5 file"
                + " holding the dataset of \(label)")
        }
        let fapl = try fileAccessProperties(at: label)
        defer { H5Pclose(fapl) }
        let flags = writable ? emflow_H5F_ACC_RDWR() : emflow_H5F_ACC_RDONLY()
        return try check(H5Fopen(file.path, flags, fapl), writable ? "open the file for writing" : "open the file", at: label)
    }

    /// Starts a new HDF5 file in a locked (empty) file.
    static func createFile(_ file: HDF5FileLock, at label: String) throws -> hid_t {
        let fapl = try fileAccessProperties(at: label)
        defer { H5Pclose(fapl) }
        return try check(H5Fcreate(file.path, emflow_H5F_ACC_TRUNC(), hid_t(H5P_DEFAULT), fapl), "create the file", at: label)
    }

    /// Closes a file, throwing when the final flush fails.
    static func closeFile(_ file: hid_t, at label: String) throws {
        try check(H5Fclose(file), "close (flush) the file", at: label)
    }
}
