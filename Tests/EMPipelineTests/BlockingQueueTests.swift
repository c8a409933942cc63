@testable import EMPipeline
import Foundation
import Testing

@Suite("Bounded queue")
struct BlockingQueueTests {
    @Test("a full queue holds the producer back; everything arrives once, in order")
    func backpressure() {
        let queue = BlockingQueue<Int>(capacity: 3)
        let highest = AtomicMaximum()
        let received = LockedArray()
        let done = DispatchSemaphore(value: 0)
        Thread {
            while let value = queue.take() {
                highest.observe(queue.count)
                received.append(value)
                Thread.sleep(forTimeInterval: 0.0005)
            }
            done.signal()
        }.start()
        for value in 0..<200 {
            queue.put(value)
            highest.observe(queue.count)
        }
        queue.close()
        done.wait()
        #expect(received.values == Array(0..<200))
        #expect(highest.value <= 3)
        #expect(highest.value == 3, "the producer outran the consumer, so the queue must have filled")
    }

    @Test("closing wakes a waiting consumer")
    func closing() {
        let queue = BlockingQueue<Int>(capacity: 1)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            #expect(queue.take() == nil)
            finished.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.02)
        queue.close()
        #expect(finished.wait(timeout: .now() + 5) == .success)
    }
}

final class AtomicMaximum: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var value = 0

    func observe(_ candidate: Int) {
        lock.lock()
        value = max(value, candidate)
        lock.unlock()
    }
}

final class LockedArray: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []

    func append(_ value: Int) {
        lock.lock()
        storage.append(value)
        lock.unlock()
    }

    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
