import Dispatch

/// Runs one piece of work on a background thread and hands its result over once: lets the
/// evaluation read the next slab while it counts the current one.
final class Prefetch<Value>: @unchecked Sendable {
    private var result: Result<Value, Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `work` now.
    init(_ work: @escaping () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = Result(catching: work)
            self.done.signal()
        }
    }

    /// Waits for the work and returns its value or rethrows its error. Call once.
    func value() throws -> Value {
        done.wait()
        return try result!.get()
    }
}
