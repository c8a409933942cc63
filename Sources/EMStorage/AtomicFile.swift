import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see either the old content or the new content, never a part:
/// the bytes go to a temporary file in the same directory and replace the target with
/// `rename(2)`, which is atomic on POSIX file systems (a killed process leaves at most a stray
/// temporary file, never a partial target). Safe from several threads and
/// processes writing different files (each uses its own temporary name).
public enum AtomicFile {
    /// Prefix of temporary files, so that cleanup and listings can recognise them.
    public static let temporaryPrefix = ".emflow-tmp-"

    /// Atomically replaces `path` with `bytes`, creating parent directories when asked.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, createDirectories: Bool = true) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        if createDirectories {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            catch { throw StorageError.unwritable(path: directory, reason: "cannot create directory (\(error.localizedDescription))") }
        }
        let temporary = directory + "/" + temporaryPrefix + url.lastPathComponent + "-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.unwritable(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw StorageError.unwritable(path: path, reason: reason)
            }
            written += n
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StorageError.unwritable(path: path, reason: reason)
        }
    }

    /// Atomically replaces `path` with `data`.
    public static func write(_ data: Data, to path: String, createDirectories: Bool = true) throws {
        try data.withUnsafeBytes { try write($0, to: path, createDirectories: createDirectories) }
    }

    /// Atomically replaces `path` with UTF-8 `text`.
    public static func write(_ text: String, to path: String, createDirectories: Bool = true) throws {
        try write(Data(text.utf8), to: path, createDirectories: createDirectories)
    }
}
