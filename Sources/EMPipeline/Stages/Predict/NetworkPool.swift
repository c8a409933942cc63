import EMNN
import Foundation

/// U-Nets loaded from one checkpoint, one per thread that predicts at the same time (a `UNet`
/// is not thread-safe); networks are loaded on first need and reused.
final class NetworkPool: @unchecked Sendable {
    private let checkpoint: URL
    private let threads: Int?
    private let lock = NSLock()
    private var idle: [UNet] = []

    init(checkpoint: URL, threads: Int?) {
        self.checkpoint = checkpoint
        self.threads = threads
    }

    /// Runs `body` with a network no other thread uses meanwhile.
    func withNetwork<R>(_ body: (UNet) throws -> R) throws -> R {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        let network = try reused ?? UNet(checkpoint: checkpoint, threads: threads)
        defer {
            lock.lock()
            idle.append(network)
            lock.unlock()
        }
        return try body(network)
    }
}
