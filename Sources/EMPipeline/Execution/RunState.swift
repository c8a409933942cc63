import EMProgress
import EMVolume
import Foundation

/// The shared bookkeeping of one run: pass summaries, progress and events.
final class RunState: @unchecked Sendable {
    /// Counts of one pass while it runs; `finish` is called from several threads.
    final class PassRecorder: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var summary: PassSummary
        private let progress: ProgressReporter
        private let events: EventLog
        private let start = Date()

        fileprivate init(summary: PassSummary, progress: ProgressReporter, events: EventLog) {
            self.summary = summary
            self.progress = progress
            self.events = events
        }

        /// Records how a block ended.
        func finish(_ outcome: BlockStreamer.Outcome) {
            if let failure = outcome.failure { fail(outcome.block, failure, attempts: outcome.attempts, seconds: outcome.seconds) }
            else { succeed(outcome.block, attempts: outcome.attempts, seconds: outcome.seconds) }
        }

        /// Records a finished block.
        func succeed(_ block: Block, attempts: Int, seconds: Double, bytes: Int = 0) {
            lock.lock()
            summary.done += 1
            lock.unlock()
            events.emit("block", ["stage": summary.stage, "pass": summary.pass, "block": block.id, "box": block.writeBox.description,
                                  "status": "done", "attempts": attempts, "seconds": (seconds * 1000).rounded() / 1000])
            progress.advance(1, bytes: bytes)
        }

        /// Records a failed block.
        func fail(_ block: Block, _ message: String, attempts: Int, seconds: Double) {
            lock.lock()
            summary.failures.append(BlockFailure(block: block.id, message: message))
            lock.unlock()
            events.emit("block", ["stage": summary.stage, "pass": summary.pass, "block": block.id, "box": block.writeBox.description,
                                  "status": "failed", "attempts": attempts, "error": message, "seconds": (seconds * 1000).rounded() / 1000])
            progress.advance(1)
        }

        /// Records the failure of a stage that runs as a whole (reported as its block 0).
        func failStep(_ message: String) {
            lock.lock()
            summary.failures.append(BlockFailure(block: 0, message: message))
            lock.unlock()
            events.emit("step", ["stage": summary.stage, "pass": summary.pass, "status": "failed", "error": message])
        }

        /// Records blocks done without streaming.
        func addDone(_ count: Int) {
            lock.lock()
            summary.done += count
            lock.unlock()
        }

        fileprivate func end() -> PassSummary {
            progress.finish()
            lock.lock()
            summary.failures.sort { $0.block < $1.block }
            let result = summary
            lock.unlock()
            events.emit("pass_end", ["stage": result.stage, "pass": result.pass, "done": result.done, "skipped": result.skipped,
                                     "failed": result.failed, "seconds": (Date().timeIntervalSince(start) * 1000).rounded() / 1000])
            return result
        }
    }

    let execution: ExecutionSettings
    let events: EventLog
    private let progressSink: ProgressReporter.Sink
    private let lock = NSLock()
    private(set) var passes: [PassSummary] = []

    init(execution: ExecutionSettings, events: EventLog, progress: ProgressReporter.Sink) {
        self.execution = execution
        self.events = events
        self.progressSink = progress
    }

    /// Starts counting a pass over `total` blocks (`skipped` more were done before).
    func beginPass(stage: String, pass: String, total: Int, skipped: Int) -> PassRecorder {
        events.emit("pass_start", ["stage": stage, "pass": pass, "blocks": total, "skipped": skipped])
        let progress = ProgressReporter(label: "\(stage) \(pass)", total: total, unit: "blocks", sink: total > 0 ? progressSink : .silent)
        return PassRecorder(summary: PassSummary(stage: stage, pass: pass, skipped: skipped), progress: progress, events: events)
    }

    /// Ends a pass, adds it to the summary and returns its number of failed blocks.
    @discardableResult
    func endPass(_ recorder: PassRecorder) -> Int {
        let summary = recorder.end()
        lock.lock()
        passes.append(summary)
        lock.unlock()
        return summary.failed
    }
}
