import Foundation

/// A first-in first-out queue of bounded capacity between threads: `put` waits while the queue
/// is full (backpressure), `take` waits while it is empty, `close` ends the stream.
///
/// A ring buffer: a taken element is released at once, so the queue never holds more than
/// `capacity` elements alive.
final class BlockingQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [Element?]
    private var head = 0
    private var held = 0
    private var closed = false

    /// Creates a queue holding at most `capacity` (≥ 1) elements.
    init(capacity: Int) {
        precondition(capacity >= 1, "queue capacity must be at least 1")
        slots = Array(repeating: nil, count: capacity)
    }

    /// Most elements held at once.
    var capacity: Int { slots.count }

    /// Appends `element`, waiting while the queue is full. Putting into a closed queue is a
    /// programming error.
    func put(_ element: Element) {
        condition.lock()
        defer { condition.unlock() }
        while held == slots.count && !closed { condition.wait() }
        precondition(!closed, "put into a closed queue")
        slots[(head + held) % slots.count] = element
        held += 1
        condition.broadcast()
    }

    /// Removes the oldest element, waiting while the queue is empty; nil once the queue is
    /// closed and drained.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while held == 0 && !closed { condition.wait() }
        guard held > 0 else { return nil }
        let element = slots[head]
        slots[head] = nil
        head = (head + 1) % slots.count
        held -= 1
        condition.broadcast()
        return element
    }

    /// Ends the stream: takers get nil once the remaining elements are taken.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Elements waiting now.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return held
    }
}
