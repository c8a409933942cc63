import Foundation

/// Runs `body` for each index in `0..<count` on Dispatch's worker threads (inline for a single
/// index) and rethrows the error of the lowest failing index, so that errors are reproducible.
public func parallelForEach(_ count: Int, _ body: (Int) throws -> Void) throws {
    if count == 0 { return }
    if count == 1 { try body(0); return }
    let failures = FirstFailure()
    DispatchQueue.concurrentPerform(iterations: count) { index in
        do { try body(index) } catch { failures.record(error, at: index) }
    }
    if let error = failures.error { throw error }
}

/// The error of the lowest index among concurrent failures.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var index = Int.max
    private var stored: Error?

    func record(_ error: Error, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        if index < self.index { self.index = index; stored = error }
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
