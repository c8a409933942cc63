import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reports the progress of long work: a bar with rate and ETA on a terminal, JSON-lines
/// events on a file or pipe, or nothing.
///
/// Thread-safe: workers call `advance` concurrently.
public final class ProgressReporter: @unchecked Sendable {
    /// Where progress goes.
    public enum Sink {
        /// A redrawn bar on standard error (use when it is a terminal).
        case terminal
        /// One JSON object per line appended to this file handle.
        case jsonLines(FileHandle)
        /// Nothing.
        case silent
    }

    private let label: String
    private let total: Int
    private let unit: String
    private let sink: Sink
    private let lock = NSLock()
    private var done = 0
    private var extra = 0
    private let start = Date()
    private var lastDraw = Date.distantPast

    /// Creates a reporter for `total` steps of `unit` (e.g. "chunks").
    public init(label: String, total: Int, unit: String, sink: Sink) {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.sink = sink
        emit(event: "start")
    }

    /// The sink a command line should use: a bar when standard error is a terminal, otherwise
    /// JSON lines on standard error.
    public static var automaticSink: Sink {
        isatty(STDERR_FILENO) != 0 ? .terminal : .jsonLines(FileHandle.standardError)
    }

    /// Records `steps` finished steps and `bytes` processed (for the rate).
    public func advance(_ steps: Int = 1, bytes: Int = 0) {
        lock.lock()
        done += steps
        extra += bytes
        let now = Date()
        let due = now.timeIntervalSince(lastDraw) > (isTerminal ? 0.1 : 2.0) || done >= total
        if due { lastDraw = now }
        lock.unlock()
        if due { emit(event: "progress") }
    }

    /// Ends the report (a final line on the terminal, a `finish` event).
    public func finish() {
        emit(event: "finish")
    }

    private var isTerminal: Bool { if case .terminal = sink { return true } else { return false } }

    private func emit(event: String) {
        lock.lock()
        let (count, bytes) = (done, extra)
        lock.unlock()
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(bytes) / elapsed : 0
        switch sink {
        case .silent:
            return
        case .terminal:
            let fraction = total > 0 ? Double(count) / Double(total) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let eta = count > 0 && count < total ? elapsed / Double(count) * Double(total - count) : 0
            var line = "\r\(label) [\(bar)] \(count)/\(total) \(unit)"
            if bytes > 0 { line += String(format: "  %.1f MB/s", rate / 1e6) }
            line += event == "finish" ? String(format: "  %.1f s\n", elapsed) : String(format: "  ETA %.0f s ", eta)
            FileHandle.standardError.write(Data(line.utf8))
        case let .jsonLines(handle):
            let object: [String: Any] = ["event": event, "task": label, "done": count, "total": total, "unit": unit,
                                         "elapsed_s": (elapsed * 1000).rounded() / 1000, "bytes": bytes]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                handle.write(data + Data("\n".utf8))
            }
        }
    }
}
