import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// JSON-lines events of a run (`--events FILE`): one object per line, with `event` and `time`
/// keys, safe to write from several threads.
public final class EventLog: @unchecked Sendable {
    private let handle: FileHandle?
    private let path: String?
    private let lock = NSLock()
    private let start = Date()
    private var failure: String?

    /// A log that writes nothing.
    public static let disabled = EventLog(handle: nil, path: nil)

    private init(handle: FileHandle?, path: String?) {
        self.handle = handle
        self.path = path
    }

    /// Creates (or truncates) `path` and logs into it.
    ///
    /// - Throws: `PipelineError.execution` when the file cannot be created.
    public convenience init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // open(2), not a replace-by-rename: the path may be a pipe, a terminal or a device.
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineError.execution("\(path): cannot create the events file: \(String(cString: strerror(errno)))")
        }
        self.init(handle: FileHandle(fileDescriptor: fd, closeOnDealloc: true), path: path)
    }

    /// Appends one event with `fields`.
    public func emit(_ event: String, _ fields: [String: Any] = [:]) {
        guard let handle else { return }
        var object = fields
        object["event"] = event
        object["time"] = ISO8601DateFormatter().string(from: Date())
        object["elapsed_s"] = (Date().timeIntervalSince(start) * 1000).rounded() / 1000
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil else { return }
        // Plain write(2): a full disk (ENOSPC) must be seen, not buffered away.
        let line = data + Data("\n".utf8)
        let written = line.withUnsafeBytes { bytes -> Int in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(handle.fileDescriptor, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 { if errno == EINTR { continue }; return -Int(errno) }
                done += n
            }
            return done
        }
        if written < 0 {
            failure = "\(path ?? "the events file"): events could not be written (\(String(cString: strerror(Int32(-written))))); the run's events after this point are lost"
        }
    }

    /// Why events were lost (the first failed write, e.g. a full disk), or nil when none was:
    /// a run whose events did not reach their file must not end as if they had.
    public var writeFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    /// Closes the file; a failure there is a lost write too.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        do {
            try handle?.close()
        } catch {
            if failure == nil, handle != nil { failure = "\(path ?? "the events file"): events could not be written (\(error.localizedDescription))" }
        }
    }
}
