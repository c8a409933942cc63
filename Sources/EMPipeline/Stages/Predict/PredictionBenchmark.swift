import Dispatch
import EMNN
import EMVolume
import Foundation

/// Bare network inference on the blocks a crop-mode predict stage would process: the same
/// input boxes (block + halo, aligned and grown to a size the network accepts), the same
/// workers and threads, but no reading, conversion, queues or writing. A pipeline run's
/// throughput divided by this is the pipeline's efficiency.
public enum PredictionBenchmark {
    /// The result of one measurement.
    public struct Result: Sendable {
        /// Output voxels of one block.
        public var blockVoxels: Int
        /// Input shape each prediction reads.
        public var inputShape: Coordinate
        /// Blocks predicted.
        public var blocks: Int
        /// Wall time for all of them, in seconds.
        public var seconds: Double
        /// Output voxels per second.
        public var voxelsPerSecond: Double { Double(blockVoxels * blocks) / seconds }
    }

    /// Predicts `blocks` blocks of `blockShape` (random uint8-like input) with `workers`
    /// networks loaded from `checkpoint`, each using `threads` threads, after one warm-up block
    /// per worker.
    ///
    /// - Throws: when the checkpoint cannot be loaded or the block shape does not suit the network.
    public static func run(checkpoint: URL, blockShape: Coordinate, blocks: Int, workers: Int, threads: Int?) throws -> Result {
        let pool = NetworkPool(checkpoint: checkpoint, threads: threads)
        let configuration = try pool.withNetwork { $0.configuration }
        // An interior block: its read box lies inside a larger volume, as most blocks' do.
        let box = Box(offset: blockShape, shape: blockShape)
        let readBox = try configuration.readBox(forOutput: box, in: box.grown(by: blockShape))
        var generator = SystemRandomNumberGenerator()
        var input = Volume<Float>(box: readBox)
        input.storage.withUnsafeMutableBufferPointer { values in
            for i in 0..<values.count { values[i] = Float(UInt8.random(in: 0...255, using: &generator)) / 255 }
        }
        let sample = input
        let workerCount = max(1, workers)
        func predict() throws {
            _ = try pool.withNetwork { try $0.predict(sample)[0].cropped(to: box) }
        }
        // Warm-up: every worker's network is loaded and has planned its primitives.
        try parallelForEach(workerCount) { _ in try predict() }
        let count = max(1, blocks)
        let start = DispatchTime.now().uptimeNanoseconds
        try parallelForEach(workerCount) { worker in
            for _ in Swift.stride(from: worker, to: count, by: workerCount) { try predict() }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(blockVoxels: blockShape.product, inputShape: readBox.shape, blocks: count, seconds: seconds)
    }
}
