import ArgumentParser
import EMNN
import EMPipeline
import EMStorage
import EMStores
import EMVolume
import Foundation

/// Prints `object` as one line of JSON with sorted keys (what every `emflow bench` prints).
private func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// `emflow bench`: measurements that are never timed assertions in tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time storage, U-Net and bare-inference throughput (benchmarks/ runs these).",
        discussion: """
        Examples:
          emflow bench storage bench.zarr/volumes/raw --scratch /tmp/emflow-bench
          emflow bench unet --sizes 64,96 --threads 2
          emflow bench predict runs/vnc-synapse/best --block-shape 32,256,256
          emflow bench models runs/dense/best runs/bb-0.3/compacted --threads 1
        """,
        subcommands: [StorageBench.self, UNetBench.self, PredictBench.self, ModelsBench.self]
    )
}

/// Read and write throughput of zstd Zarr and gzip HDF5 on one in-memory volume.
struct StorageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Time whole-volume writes and reads of zstd Zarr (v2) and gzip HDF5.",
        discussion: "Reads INPUT into memory, then for each format writes it, drops the page cache where permitted, and reads it back; prints one JSON object."
    )

    @Argument(help: "The volume to use as data, e.g. bench.zarr/volumes/raw.")
    var input: String

    @Option(help: "Directory for the outputs (deleted afterwards).")
    var scratch: String

    @Option(help: "Chunk shape z,y,x of the outputs.")
    var chunks = Coordinate(64, 256, 256)

    @Option(name: .customLong("zstd-level"), help: "zstd level of the Zarr output.") var zstdLevel: Int = 3
    @Option(name: .customLong("gzip-level"), help: "gzip level of the HDF5 output.") var gzipLevel: Int = 4

    func run() throws {
        let source = try Stores.open(input)
        let m = source.metadata
        var bytes = [UInt8](repeating: 0, count: m.uncompressedBytes)
        let readStart = Date()
        try bytes.withUnsafeMutableBytes { try source.readBytes(m.bounds, into: $0, outside: .error) }
        let inputSeconds = Date().timeIntervalSince(readStart)
        let chunkShape = Coordinate.minimum(chunks, m.shape)
        let cases: [(name: String, address: StoreAddress, codec: Codec)] = [
            ("zarr-zstd", StoreAddress(format: .zarr, path: scratch + "/bench.zarr", key: "raw"), .zstd(level: zstdLevel)),
            ("hdf5-gzip", StoreAddress(format: .hdf5, path: scratch + "/bench.h5", key: "raw"), .gzip(level: gzipLevel)),
        ]
        var results: [[String: Any]] = []
        for c in cases {
            let spec = VolumeSpec(shape: m.shape, dataType: m.dataType, chunkShape: chunkShape, voxelSize: m.voxelSize, codec: c.codec)
            let writeStart = Date()
            let store = try Stores.create(c.address, spec: spec, overwrite: true)
            try bytes.withUnsafeBytes { try store.writeBytes(m.bounds, from: $0) }
            try store.flush()
            let writeSeconds = Date().timeIntervalSince(writeStart)
            let onDisk = try store.bytesOnDisk()
            var back = [UInt8](repeating: 0, count: bytes.count)
            let readStart = Date()
            let reopened = try Stores.open(c.address)
            try back.withUnsafeMutableBytes { try reopened.readBytes(m.bounds, into: $0, outside: .error) }
            let readSeconds = Date().timeIntervalSince(readStart)
            guard back == bytes else { throw ValidationError("\(c.name): data read back differs from data written") }
            results.append(["case": c.name, "write_s": writeSeconds, "read_s": readSeconds,
                            "write_MBps": Double(bytes.count) / writeSeconds / 1e6, "read_MBps": Double(bytes.count) / readSeconds / 1e6,
                            "bytes_on_disk": onDisk])
        }
        try? FileManager.default.removeItem(atPath: scratch + "/bench.zarr")
        try? FileManager.default.removeItem(atPath: scratch + "/bench.h5")
        let report: [String: Any] = ["tool": "emflow", "shape": m.shape.components, "dtype": m.dataType.rawValue,
                                     "chunks": chunkShape.components, "bytes": bytes.count, "input_read_s": inputSeconds,
                                     "cases": results]
        try printJSON(report)
    }
}

/// U-Net inference throughput and training-step time on random data.
struct UNetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet",
        abstract: "Time U-Net inference and training steps.",
        discussion: """
            Times the benchmarks' reference architecture (depth 3, base 16, two 3x3x3 convolutions + ReLU per level, \
            max-pool 2, transposed-convolution up, concatenated skips, 1x1x1 head) on one block per size: \
            inference (forward only) and a training step (forward, BCE + Dice, backward, Adam). \
            benchmarks/run-unet-bench.sh runs it beside PyTorch and writes the ratios.
            """
    )

    @Option(help: "Cubic input sizes, comma-separated.")
    var sizes: String = "64,96"

    @Option(help: "Threads (oneDNN's OpenMP threads).")
    var threads: Int = 2

    @Option(help: "Timed repetitions per measurement (the median is reported, after one warm-up run).")
    var repetitions: Int = 3

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1, got \(repetitions)") }
    }

    func run() throws {
        let edges = try sizes.split(separator: ",").map { text -> Int in
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw ValidationError("--sizes expects positive integers separated by commas, e.g. 64,96; got '\(sizes)'")
            }
            return n
        }
        let configuration = UNetConfiguration(depth: 3, baseWidth: 16, padding: .same)
        var rows: [[String: Any]] = []
        for edge in edges {
            let size = Coordinate(repeating: edge)
            _ = try configuration.outputSize(for: size)
            let measured = try NNBenchmark.unet(configuration: configuration, size: size, threads: threads, repetitions: repetitions)
            guard measured.count == 2 else { throw ValidationError("the U-Net benchmark returned \(measured.count) measurements, expected 2") }
            let (inference, training) = (measured[0], measured[1])
            rows.append(["size": edge, "inference_s": inference.milliseconds / 1e3,
                         "inference_voxels_per_s": Double(inference.voxels) / (inference.milliseconds / 1e3),
                         "training_step_s": training.milliseconds / 1e3])
            if !json {
                print(String(format: "%4d^3  inference %7.3f s  %6.3f Mvoxel/s   training step %7.3f s",
                             edge, inference.milliseconds / 1e3, inference.megavoxelsPerSecond, training.milliseconds / 1e3))
            }
        }
        if json {
            let report: [String: Any] = ["tool": "emflow", "threads": threads, "repetitions": repetitions,
                                         "parameters": try UNet(configuration: configuration).parameterCount, "cases": rows]
            try printJSON(report)
        }
    }
}

/// Bare network inference on a predict stage's blocks, to compare a pipeline run against.
struct PredictBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Time bare U-Net inference on the blocks a crop-mode predict stage would process.",
        discussion: """
            Predicts random blocks of BLOCK_SHAPE with the model, reading the same input boxes (block + halo, aligned) \
            with the same workers and threads as a pipeline, but without reading, queues or writing; prints one JSON \
            object. benchmarks/run-pipeline-bench.sh compares a pipeline run's throughput against it.
            """
    )

    @Argument(help: "A checkpoint directory (config.json + model.safetensors).")
    var model: String

    @Option(name: .customLong("block-shape"), help: "Block shape z,y,x (the pipeline's execution.block_shape).")
    var blockShape: Coordinate

    @Option(help: "Blocks to predict.")
    var blocks: Int = 8

    @Option(help: "Networks predicting at the same time (the pipeline's execution.workers).")
    var workers: Int = 2

    @Option(help: "Threads of each network (the predict stage's threads; default: the library's).")
    var threads: Int?

    func run() throws {
        let result = try PredictionBenchmark.run(checkpoint: URL(fileURLWithPath: model), blockShape: blockShape, blocks: blocks,
                                                 workers: workers, threads: threads)
        let report: [String: Any] = ["tool": "emflow", "block_shape": blockShape.components, "input_shape": result.inputShape.components,
                                     "blocks": result.blocks, "workers": workers, "threads": threads ?? 0, "seconds": result.seconds,
                                     "voxels_per_s": result.voxelsPerSecond]
        try printJSON(report)
    }
}

/// Inference speed of several checkpoints against the first, measured in one run.
struct ModelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Time inference of several checkpoints on the same input, relative to the first.",
        discussion: """
            Loads every checkpoint (e.g. a dense model, then compacted pruned models), runs each once to warm up, then \
            ROUNDS rounds in which each network predicts the same random patch once, so that a change in the \
            machine's load falls on all of them alike. Reports each network's median time, parameters, FLOPs and \
            speed relative to the first checkpoint. The networks must take the same input: the patch default is the \
            first network's input for a 16x128x128 output.

            Examples:
              emflow bench models runs/dense/best runs/bb-both-0.3/compacted runs/bb-both-0.1/compacted --threads 1
            """
    )

    @Argument(help: "Checkpoint directories (config.json + model.safetensors); the first is the reference.")
    var checkpoints: [String]

    @Option(help: ArgumentHelp("Input patch z,y,x (default: the first network's input for a 16x128x128 output).", valueName: "z,y,x"))
    var patch: Coordinate?

    @Option(help: "Timed rounds (each network runs once per round; the median is reported).")
    var rounds: Int = 7

    @Option(help: "Threads of each network (default: the library's).")
    var threads: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard !checkpoints.isEmpty else { throw ValidationError("name at least one checkpoint directory") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        var networks: [(name: String, network: UNet)] = []
        for path in checkpoints {
            do {
                networks.append((path, try UNet(checkpoint: URL(fileURLWithPath: path), threads: threads)))
            } catch {
                throw failure("bench models", "\(error)")
            }
        }
        let first = networks[0].network.configuration
        let size = try patch ?? first.inputSize(forOutput: Coordinate(16, 128, 128))
        let shape = TensorShape(batch: 1, channels: first.inputChannels, spatial: size)
        for (path, network) in networks {
            do {
                _ = try network.outputShape(for: shape)
            } catch {
                throw failure("bench models", "\(path) cannot take the \(size) input patch: \(error)")
            }
        }
        var generator = SeededGenerator(seed: 3)
        let input = try Tensor(shape: shape, values: (0..<shape.elementCount).map { _ in Float.random(in: 0...1, using: &generator) })
        let measured = try NNBenchmark.inference(of: networks, input: input, rounds: rounds)
        let reference = measured[0].milliseconds
        var rows: [[String: Any]] = []
        for ((path, network), measurement) in zip(networks, measured) {
            let speedup = reference / measurement.milliseconds
            rows.append(["checkpoint": path, "parameters": network.parameterCount, "flops": measurement.flops,
                         "milliseconds": measurement.milliseconds, "thread_cpu_milliseconds": measurement.threadCPUMilliseconds,
                         "speedup": speedup])
            if !json {
                print(String(format: "%8.1f ms  %5.2fx  %9d parameters  %8.3g FLOPs  %@", measurement.milliseconds,
                             speedup, network.parameterCount, measurement.flops, path))
            }
        }
        if json {
            try printJSON(["tool": "emflow", "patch": size.components, "rounds": rounds, "threads": threads ?? 0, "models": rows])
        }
    }
}
