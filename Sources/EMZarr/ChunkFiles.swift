import Foundation
import EMStorage
#if canImport(Glibc)
import Glibc
#endif

/// POSIX file access for chunk files: whole reads, ranged reads, race-free directory creation
/// and removal. A missing file is `nil`, never an error: Zarr stores leave unwritten chunks out.
enum ChunkFiles {
    /// An open file, closed on deinit.
    final class Handle {
        let descriptor: Int32
        let path: String
        /// Size in bytes at open time.
        let size: Int

        /// Opens `path` for reading, or returns nil when it does not exist.
        init?(path: String) throws {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw StorageError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
            }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw StorageError.io(path: path, reason: "cannot stat: \(reason)")
            }
            descriptor = fd
            self.path = path
            size = Int(info.st_size)
        }

        deinit { close(descriptor) }

        /// Reads `count` bytes at `offset`; fewer bytes in the file is a corrupt chunk.
        func read(offset: Int, count: Int) throws -> [UInt8] {
            guard offset >= 0, count >= 0, offset + count <= size else {
                throw StorageError.corruptChunk(path: path, reason: "byte range \(offset)..<\(offset + count) lies beyond the file's \(size) bytes")
            }
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            try bytes.withUnsafeMutableBytes { buffer in
                while done < count {
                    let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw StorageError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
                    }
                    if n == 0 {
                        throw StorageError.corruptChunk(path: path, reason: "file ended after \(offset + done) bytes, expected \(offset + count)")
                    }
                    done += n
                }
            }
            return bytes
        }
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        guard let handle = try Handle(path: path) else { return nil }
        return try handle.read(offset: 0, count: handle.size)
    }

    /// Writes `bytes` atomically (temporary file + rename), creating the directory first.
    static func write(_ bytes: [UInt8], to path: String) throws {
        try makeDirectories((path as NSString).deletingLastPathComponent)
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: path, createDirectories: false) }
    }

    /// Removes a file; a file that is already gone is fine.
    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR {
            throw StorageError.unwritable(path: path, reason: "cannot remove: \(String(cString: strerror(errno)))")
        }
    }

    /// `mkdir -p` that tolerates other threads and processes creating the same directories.
    static func makeDirectories(_ path: String) throws {
        if path.isEmpty || path == "/" { return }
        if mkdir(path, 0o755) == 0 { return }
        switch errno {
        case EEXIST:
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw StorageError.unwritable(path: path, reason: "exists and is not a directory")
        case ENOENT:
            try makeDirectories((path as NSString).deletingLastPathComponent)
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw StorageError.unwritable(path: path, reason: "cannot create directory: \(String(cString: strerror(errno)))")
            }
        default:
            throw StorageError.unwritable(path: path, reason: "cannot create directory: \(String(cString: strerror(errno)))")
        }
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// How the chunk files in `directory` are named, judged by the first chunk-like entry:
    /// `"/"` when it is a directory with a number for a name (`0/0/0`, the nested layout),
    /// `"."` when it is a file such as `0.0.0`, nil when no chunk is there. Stops at the first
    /// such entry, so an array of a million chunks costs one short directory read.
    static func chunkSeparator(in directory: String) -> String? {
        guard let stream = opendir(directory) else { return nil }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = name.first, first.isASCII, first.isNumber else { continue }
            if name.allSatisfy({ $0.isASCII && $0.isNumber }) {
                var info = stat()
                if stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return "/" }
            }
            if name.contains(".") { return "." }
        }
        return nil
    }

    /// Total size of the regular files below `directory` (or of `directory` if it is a file).
    static func totalSize(_ directory: String) throws -> Int64 {
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw StorageError.missing(path: directory, what: "Zarr array directory") }
        if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return 0 }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw StorageError.io(path: directory, reason: "cannot list: \(error.localizedDescription)")
        }
        return try entries.reduce(0) { $0 + (try totalSize(directory + "/" + $1)) }
    }
}
