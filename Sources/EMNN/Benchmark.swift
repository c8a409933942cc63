import Dispatch
import EMVolume
import Foundation

/// One timed operation of a micro-benchmark.
public struct BenchmarkMeasurement: Codable, Equatable, Sendable {
    /// What was timed, e.g. `conv 16->16 3x3x3 @ 64^3 forward`.
    public var name: String
    /// Median wall time of one run, in milliseconds.
    public var milliseconds: Double
    /// Median processor time of the calling thread for one run, in milliseconds: with one
    /// thread, the work itself, unaffected by other processes competing for the cores.
    public var threadCPUMilliseconds: Double
    /// Floating-point operations of one run (multiply + add counted as 2).
    public var flops: Double
    /// Input voxels processed by one run.
    public var voxels: Int

    /// Achieved GFLOP/s.
    public var gflopsPerSecond: Double { flops / (milliseconds * 1e6) }
    /// Input megavoxels per second.
    public var megavoxelsPerSecond: Double { Double(voxels) / (milliseconds * 1e3) }
}

/// Micro-benchmarks of the convolution passes and of whole U-Net inference and training steps.
public enum NNBenchmark {
    /// Processor time of the calling thread so far, in milliseconds.
    private static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
    }

    /// Median wall and calling-thread CPU times of each of `bodies` over `repetitions` rounds, in
    /// milliseconds: one warm-up run each, then every round runs each body once, so that a change
    /// in the machine's load falls on all of them alike.
    static func time(repetitions: Int, interleaving bodies: [() throws -> Void]) throws -> [(wall: Double, cpu: Double)] {
        for body in bodies { try body() }
        var wall = [[Double]](repeating: [], count: bodies.count), cpu = wall
        for _ in 0..<max(1, repetitions) {
            for (index, body) in bodies.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds, cpuStart = threadCPU()
                try body()
                cpu[index].append(threadCPU() - cpuStart)
                wall[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return bodies.indices.map { (median(wall[$0]), median(cpu[$0])) }
    }

    /// Median wall and calling-thread CPU times of `body` over `repetitions` runs after one
    /// warm-up run, in milliseconds.
    static func time(repetitions: Int, _ body: () throws -> Void) throws -> (wall: Double, cpu: Double) {
        try withoutActuallyEscaping(body) { try time(repetitions: repetitions, interleaving: [$0])[0] }
    }

    /// Times forward, backward-data and backward-weights of one same-padded convolution.
    public static func convolution(inputChannels: Int, outputChannels: Int, kernel: Coordinate, size: Coordinate,
                                   threads: Int? = nil, repetitions: Int = 5) throws -> [BenchmarkMeasurement] {
        let context = try ComputeContext(threadCount: threads)
        let conv = try Convolution(name: "bench", inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel,
                                   fusedReLU: true, context: context, seed: 1)
        let shape = TensorShape(channels: inputChannels, spatial: size)
        var generator = SeededGenerator(seed: 2)
        let input = try Tensor(shape: shape, values: (0..<shape.elementCount).map { _ in Float.random(in: -1...1, using: &generator) })
            .converted(to: inputChannels >= 8 ? .blocked(8) : .plain)
        let output = try conv.forward(input, training: true)
        let gradient = try Tensor(shape: output.shape, values: (0..<output.shape.elementCount).map { _ in Float.random(in: -1...1, using: &generator) })
            .converted(to: output.layout)
        let flops = 2.0 * Double(inputChannels * outputChannels * kernel.product * output.shape.spatial.product)
        let label = "conv \(inputChannels)->\(outputChannels) \(kernel.z)x\(kernel.y)x\(kernel.x) @ \(size)"
        let forward = try time(repetitions: repetitions) { _ = try conv.forward(input, training: true) }
        let data = try time(repetitions: repetitions) { _ = try conv.core.backward(gradient, parameters: false, inputGradient: true) }
        let weights = try time(repetitions: repetitions) { _ = try conv.core.backward(gradient, inputGradient: false) }
        return [
            BenchmarkMeasurement(name: "\(label) forward (oneDNN)", milliseconds: forward.wall, threadCPUMilliseconds: forward.cpu,
                                 flops: flops, voxels: size.product),
            BenchmarkMeasurement(name: "\(label) backward-data (oneDNN)", milliseconds: data.wall, threadCPUMilliseconds: data.cpu,
                                 flops: flops, voxels: size.product),
            BenchmarkMeasurement(name: "\(label) backward-weights (im2col + OpenBLAS)", milliseconds: weights.wall,
                                 threadCPUMilliseconds: weights.cpu, flops: flops, voxels: size.product),
        ]
    }

    /// Times U-Net inference (forward) and a training step (forward, BCE + Dice, backward, Adam)
    /// on a batch of `batch` blocks of `size`.
    public static func unet(configuration: UNetConfiguration, size: Coordinate, batch: Int = 1, threads: Int? = nil,
                            repetitions: Int = 3) throws -> [BenchmarkMeasurement] {
        let net = try UNet(configuration: configuration, threads: threads)
        let shape = TensorShape(batch: batch, channels: configuration.inputChannels, spatial: size)
        var generator = SeededGenerator(seed: 3)
        let input = try Tensor(shape: shape, values: (0..<shape.elementCount).map { _ in Float.random(in: -1...1, using: &generator) })
        let outputShape = try net.outputShape(for: shape)
        let target = try Tensor(shape: outputShape, values: (0..<outputShape.elementCount).map { _ in
            Float.random(in: 0...1, using: &generator) < 0.05 ? 1 : 0
        })
        let trainer = UNetTrainer(network: net)
        let flops = try net.forwardFLOPs(for: shape)
        let label = "U-Net depth \(configuration.depth) base \(configuration.baseWidth) @ \(batch)x\(size)"
        let inference = try time(repetitions: repetitions) { _ = try net.forward(input, training: false) }
        let training = try time(repetitions: repetitions) { _ = try trainer.step(input: input, target: target) }
        return [
            BenchmarkMeasurement(name: "\(label) inference", milliseconds: inference.wall, threadCPUMilliseconds: inference.cpu,
                                 flops: flops, voxels: shape.elementCount),
            BenchmarkMeasurement(name: "\(label) training step", milliseconds: training.wall, threadCPUMilliseconds: training.cpu,
                                 flops: 3 * flops, voxels: shape.elementCount),
        ]
    }

    /// Times inference of several networks on the same `input`, interleaved (see
    /// `time(repetitions:interleaving:)`). Returns the medians over `rounds`, in the order given.
    public static func inference(of networks: [(name: String, network: UNet)], input: Tensor,
                                 rounds: Int) throws -> [BenchmarkMeasurement] {
        let times = try time(repetitions: rounds, interleaving: networks.map { entry in
            { _ = try entry.network.forward(input, training: false) }
        })
        return try zip(networks, times).map { entry, time in
            BenchmarkMeasurement(name: entry.name, milliseconds: time.wall, threadCPUMilliseconds: time.cpu,
                                 flops: try entry.network.convolutionFLOPs(for: input.shape).dense, voxels: input.shape.elementCount)
        }
    }
}

extension UNet {
    /// Floating-point operations of one forward pass over `input` (convolutions and transposed
    /// convolutions over every channel pair; multiply + add counted as 2).
    public func forwardFLOPs(for input: TensorShape) throws -> Double {
        try convolutionFLOPs(for: input).dense
    }
}
