import EMVolume
import Foundation

/// Streams blocks through a chain of stages: one queue of bounded capacity in front of each
/// stage and of the consumer, `workers` threads per stage. A block moves on as soon as a stage
/// has produced its part, and its volumes are released after their last use, so at most
/// (stages + 1) x (queue depth + workers) + 1 blocks are alive, whatever the volume's size.
final class BlockStreamer {
    /// How one block ended.
    struct Outcome {
        /// The block.
        var block: Block
        /// Why it failed (after the retries), nil when it succeeded.
        var failure: String?
        /// Attempts made by the step that took the most.
        var attempts: Int
        /// Seconds from leaving the feeder to leaving the consumer.
        var seconds: Double
    }

    private let graph: StageGraph
    private let workers: Int
    private let queueDepth: Int
    private let retries: Int

    init(graph: StageGraph, workers: Int, queueDepth: Int, retries: Int) {
        self.graph = graph
        self.workers = workers
        self.queueDepth = queueDepth
        self.retries = retries
    }

    /// Runs `blocks` through the stages that deliver `targets` and returns when every block
    /// has been consumed or has failed.
    ///
    /// - Parameters:
    ///   - targets: every stage whose output some block's consumer needs.
    ///   - request: for one block, the box of each target stage the consumer needs (a subset
    ///     of `targets`; a stage left out is not computed for that block).
    ///   - consume: receives each block's target volumes, cropped to the requested boxes;
    ///     called from several threads at once. Retried like a stage when it throws.
    ///   - finished: called once per block with how it ended (several threads at once).
    func run(blocks: [Block], targets: Set<String>, request: @escaping (Block) -> [String: Box],
             consume: @escaping (Block, [String: AnyVolume]) throws -> Void,
             finished: @escaping (Outcome) -> Void) {
        let steps = graph.streamingClosure(of: targets).filter { $0.implementation is BlockTransform }
        let execution = StreamExecution(steps: steps, queueDepth: queueDepth, retries: retries,
                                        request: request, consume: consume, finished: finished)
        let group = DispatchGroup()
        for position in 0...steps.count {
            let remaining = AtomicCounter(workers)
            for _ in 0..<workers {
                group.enter()
                let thread = Thread {
                    execution.work(at: position)
                    if remaining.decrement() == 0 { execution.endOfStream(after: position) }
                    group.leave()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
        }
        for block in blocks { execution.feed(block) }
        execution.endOfStream(after: -1)
        group.wait()
    }
}

/// The state of one `BlockStreamer.run`: the queues and what each position does.
private final class StreamExecution: @unchecked Sendable {
    /// One block on its way; only one thread holds it at a time.
    final class WorkItem {
        let block: Block
        let requested: [String: Box]
        let boxes: [String: Box]
        let lastUse: [String: Int]
        var volumes: [String: AnyVolume] = [:]
        var failure: String?
        var attempts = 1
        let started = Date()

        init(block: Block, requested: [String: Box], boxes: [String: Box], lastUse: [String: Int]) {
            self.block = block
            self.requested = requested
            self.boxes = boxes
            self.lastUse = lastUse
        }
    }

    private let steps: [StageGraph.Node]
    private let stepIndex: [String: Int]
    private let queues: [BlockingQueue<WorkItem>]
    private let retries: Int
    private let request: (Block) -> [String: Box]
    private let consume: (Block, [String: AnyVolume]) throws -> Void
    private let finished: (BlockStreamer.Outcome) -> Void

    init(steps: [StageGraph.Node], queueDepth: Int, retries: Int, request: @escaping (Block) -> [String: Box],
         consume: @escaping (Block, [String: AnyVolume]) throws -> Void, finished: @escaping (BlockStreamer.Outcome) -> Void) {
        self.steps = steps
        self.stepIndex = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1.name, $0) })
        self.queues = (0...steps.count).map { _ in BlockingQueue<WorkItem>(capacity: queueDepth) }
        self.retries = retries
        self.request = request
        self.consume = consume
        self.finished = finished
    }

    /// Plans `block` (the box of every stage it needs, and when each volume can go) and
    /// queues it for the first position.
    func feed(_ block: Block) {
        let requested = request(block)
        var boxes = requested
        for step in steps.reversed() {
            guard let box = boxes[step.name], step.implementation.streamsInputs else { continue }
            for (parameter, upstream) in step.stage.inputs {
                let needed = step.implementation.inputBox(for: box, input: parameter)
                boxes[upstream] = boxes[upstream].map { $0.union(needed) } ?? needed
            }
        }
        var lastUse: [String: Int] = [:]
        for name in requested.keys { lastUse[name] = steps.count }
        for step in steps where boxes[step.name] != nil && step.implementation.streamsInputs {
            for upstream in step.stage.inputs.values { lastUse[upstream] = max(lastUse[upstream] ?? -1, stepIndex[step.name]!) }
        }
        queues[0].put(WorkItem(block: block, requested: requested, boxes: boxes, lastUse: lastUse))
    }

    /// Closes the queue after `position` (-1: the feeder's).
    func endOfStream(after position: Int) {
        if position + 1 < queues.count { queues[position + 1].close() }
    }

    /// Processes blocks at `position` (a stage, or the consumer after the last stage) until
    /// the stream ends.
    func work(at position: Int) {
        while let item = queues[position].take() {
            process(item, at: position)
            if position < steps.count {
                queues[position + 1].put(item)
            } else {
                finished(BlockStreamer.Outcome(block: item.block, failure: item.failure, attempts: item.attempts,
                                               seconds: Date().timeIntervalSince(item.started)))
            }
        }
    }

    private func process(_ item: WorkItem, at position: Int) {
        guard item.failure == nil else {
            item.volumes = [:]
            return
        }
        if position < steps.count {
            let step = steps[position]
            guard let box = item.boxes[step.name], let transform = step.implementation as? BlockTransform else { return }
            var inputs: [String: AnyVolume] = [:]
            if transform.streamsInputs {
                for (parameter, upstream) in step.stage.inputs {
                    inputs[parameter] = item.volumes[upstream]!.cropped(to: transform.inputBox(for: box, input: parameter))
                }
            }
            attempt(item, "stage '\(step.name)'") {
                item.volumes[step.name] = try transform.compute(box, inputs: inputs)
            }
            for (name, last) in item.lastUse where last == position { item.volumes[name] = nil }
        } else {
            var delivered: [String: AnyVolume] = [:]
            for (name, box) in item.requested { delivered[name] = item.volumes[name]!.cropped(to: box) }
            item.volumes = [:]
            attempt(item, "storing") { try consume(item.block, delivered) }
        }
    }

    /// Runs `body`, trying again up to `retries` times; records the last error on the item.
    private func attempt(_ item: WorkItem, _ what: String, _ body: () throws -> Void) {
        var tries = 0
        while true {
            tries += 1
            do {
                try body()
                item.attempts = max(item.attempts, tries)
                return
            } catch {
                guard tries <= retries else {
                    item.attempts = max(item.attempts, tries)
                    item.failure = "\(what): \(error)"
                    return
                }
            }
        }
    }
}

/// A counter shared by threads.
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int

    init(_ value: Int) {
        self.value = value
    }

    /// Subtracts one and returns the new value.
    func decrement() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value -= 1
        return value
    }
}
