import Foundation

/// JSON-lines events of a run (`--events FILE`): one object per line, with `event` and `time`
/// keys, safe to write from several threads.
public final class EventLog: @unchecked Sendable {
    private let handle: FileHandle?
    private let lock = NSLock()
    private let start = Date()

    /// A log that writes nothing.
    public static let disabled = EventLog(handle: nil)

    private init(handle: FileHandle?) {
        self.handle = handle
    }

    /// Creates (or truncates) `path` and logs into it.
    ///
    /// - Throws: `PipelineError.execution` when the file cannot be created.
    public convenience init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw PipelineError.execution("\(path): cannot create the events file")
        }
        self.init(handle: handle)
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
        handle.write(data + Data("\n".utf8))
        lock.unlock()
    }

    /// Closes the file.
    public func close() {
        lock.lock()
        try? handle?.close()
        lock.unlock()
    }
}
