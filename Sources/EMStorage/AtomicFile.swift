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

    /// Replaces the directory `target` as one unit: `write` fills a new staging directory
    /// beside it, then two renames swap it into place (the old one parked as
    /// `.emflow-old-NAME` in between, put back by `recoverDirectory` if a kill lands there).
    /// A reader or a killed writer sees the old directory or the new one whole, never a mix.
    /// Staging left by a killed writer is removed first.
    public static func replaceDirectory(_ target: URL, write: (URL) throws -> Void) throws {
        let manager = FileManager.default
        let parent = target.deletingLastPathComponent()
        do { try manager.createDirectory(at: parent, withIntermediateDirectories: true) }
        catch { throw StorageError.unwritable(path: parent.path, reason: "cannot create directory (\(error.localizedDescription))") }
        let name = target.lastPathComponent
        for leftover in (try? manager.contentsOfDirectory(atPath: parent.path)) ?? [] where leftover.hasPrefix(temporaryPrefix + name + "-") {
            try? manager.removeItem(at: parent.appendingPathComponent(leftover))
        }
        try recoverDirectory(target)
        let staging = parent.appendingPathComponent(temporaryPrefix + name + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let old = parkedDirectory(of: target)
        do {
            do { try manager.createDirectory(at: staging, withIntermediateDirectories: false) }
            catch { throw StorageError.unwritable(path: staging.path, reason: "cannot create directory (\(error.localizedDescription))") }
            try write(staging)
            try? manager.removeItem(at: old)
            if manager.fileExists(atPath: target.path) { try move(target, to: old) }
            try move(staging, to: target)
            try? manager.removeItem(at: old)
        } catch {
            try? manager.removeItem(at: staging)
            throw error
        }
    }

    /// Puts back a directory parked by a `replaceDirectory` that was killed between its renames.
    public static func recoverDirectory(_ target: URL) throws {
        let old = parkedDirectory(of: target)
        let manager = FileManager.default
        if !manager.fileExists(atPath: target.path) && manager.fileExists(atPath: old.path) { try move(old, to: target) }
    }

    /// Where `replaceDirectory` parks the old directory between its two renames.
    public static func parkedDirectory(of target: URL) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".emflow-old-" + target.lastPathComponent)
    }

    /// `rename(2)`, as a `StorageError` naming both paths when it fails.
    public static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else {
            throw StorageError.unwritable(path: to.path, reason: "cannot move \(from.path) into place: \(String(cString: strerror(errno)))")
        }
    }
}
