import EMStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A claim on one output for as long as a run or convert writes it: an advisory `flock(2)`
/// on a small file beside the output, exclusive for a run that may create or replace the
/// output, shared for the sharded tasks of one cluster run that write distinct blocks of it.
///
/// Without it two runs with different settings could write one output at once and leave a
/// mix of both that later runs take for finished. The lock file lives outside a Zarr array's
/// directory (beside it, `.emflow-lock-NAME`), so replacing the array does not drop the
/// lock; it records the holder's process id so that the refusal can name it. The kernel
/// releases the lock when the process ends, `kill -9` included, so a stale lock file is
/// harmless. One process may take the same output's lock several times (nested uses).
public final class OutputLock: @unchecked Sendable {
    /// Exclusive (a run that may create or replace the output) or shared (shards of one run).
    public enum Mode: Sendable { case exclusive, shared }

    /// The lock file.
    public let path: String

    private struct Held {
        var descriptor: Int32
        var count: Int
        var exclusive: Bool
    }
    nonisolated(unsafe) private static var held: [String: Held] = [:]
    private static let registry = NSLock()

    private init(path: String) {
        self.path = path
    }

    deinit {
        Self.registry.lock()
        defer { Self.registry.unlock() }
        guard var entry = Self.held[path] else { return }
        entry.count -= 1
        if entry.count == 0 {
            if entry.exclusive { _ = ftruncate(entry.descriptor, 0) } // no stale id for the next refusal to name
            close(entry.descriptor) // releases the lock
            Self.held[path] = nil
        } else {
            Self.held[path] = entry
        }
    }

    /// The lock file of the output at `address`.
    public static func lockPath(for address: StoreAddress) -> String {
        switch address.format {
        case .zarr:
            let node = URL(fileURLWithPath: address.key.isEmpty ? address.path : address.path + "/" + address.key)
            return node.deletingLastPathComponent().path + "/.emflow-lock-" + node.lastPathComponent
        case .hdf5, .tiff:
            return Stores.sidecarPath(for: address, name: "lock")
        }
    }

    /// Claims the output at `address`, without waiting.
    ///
    /// - Throws: `StorageError.unwritable` naming the process that holds the output when it is
    ///   in use, or saying why the lock file cannot be made.
    public static func acquire(_ address: StoreAddress, mode: Mode = .exclusive) throws -> OutputLock {
        try acquire(file: lockPath(for: address), label: address.description, mode: mode)
    }

    /// Claims the output named `label` through the lock file `path`, without waiting.
    public static func acquire(file path: String, label: String, mode: Mode = .exclusive) throws -> OutputLock {
        registry.lock()
        defer { registry.unlock() }
        if var entry = held[path] {
            entry.count += 1
            held[path] = entry
            return OutputLock(path: path)
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw StorageError.unwritable(path: label, reason: "cannot create \(directory) (\(error.localizedDescription))") }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError.unwritable(path: label, reason: "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOLCK || code == ENOSYS || code == EOPNOTSUPP { break } // no locks here: best effort, as HDF5 does
            close(fd)
            if code == EWOULDBLOCK { throw inUse(label, pid: waitForRecordedProcess(path)) }
            throw StorageError.io(path: path, reason: "cannot lock the output: \(String(cString: strerror(code)))")
        }
        if mode == .exclusive {
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        held[path] = Held(descriptor: fd, count: 1, exclusive: mode == .exclusive)
        return OutputLock(path: path)
    }

    /// The process id of another process holding the output at `address` exclusively now
    /// (0: unknown), or nil when none does (or this process holds it). Validation uses it to say "in use" rather than
    /// misjudge an output that another run is creating.
    public static func holder(of address: StoreAddress) -> Int32? {
        holder(file: lockPath(for: address))
    }

    /// The process id of another process holding the lock file `path` now (0: unknown), or nil.
    public static func holder(file path: String) -> Int32? {
        registry.lock()
        defer { registry.unlock() }
        guard held[path] == nil else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Only an exclusive holder (a run that may replace the output) counts: the shards of
        // one cluster run share the lock and validate while the others write.
        guard flock(fd, LOCK_SH | LOCK_NB) != 0, errno == EWOULDBLOCK else { return nil }
        return waitForRecordedProcess(path) ?? 0
    }

    /// The holder writes its id just after it takes the lock: give it a moment to appear.
    private static func waitForRecordedProcess(_ path: String) -> Int32? {
        for _ in 0..<50 {
            if let pid = recordedProcess(path) { return pid }
            usleep(2_000)
        }
        return nil
    }

    /// The error for the output `label` in use by process `pid` (0 or nil: unknown).
    public static func inUse(_ label: String, pid: Int32?) -> StorageError {
        let who = pid.map { $0 > 0 ? "process \($0)" : "another process" } ?? "another process"
        return .unwritable(path: label, reason: "in use by \(who) (another emflow run or convert is writing it); wait for it to finish or stop it")
    }

    /// The process id in the lock file, when that process is alive (a `kill -9` leaves its id).
    private static func recordedProcess(_ path: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return pid
    }
}
