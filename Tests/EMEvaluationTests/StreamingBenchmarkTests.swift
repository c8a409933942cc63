import Foundation
import Testing
import EMVolume
import EMStorage
import EMStores
import TestSupport
@testable import EMEvaluation

/// The streaming-evaluation benchmark, run only on request: `EMFLOW_BENCH_OUTPUT=results.json`
/// (optionally `EMFLOW_BENCH_SHAPE=z,y,x`, default 400,1024,1024: a 2 GiB float32 + uint8 pair).
@Suite("Streaming evaluation benchmark")
struct StreamingBenchmarkTests {
    static let output = ProcessInfo.processInfo.environment["EMFLOW_BENCH_OUTPUT"]

    @Test(.enabled(if: output != nil, "set EMFLOW_BENCH_OUTPUT to run the evaluation benchmark"))
    func streamingThroughputInBoundedMemory() throws {
        let shape = try Coordinate.parse(ProcessInfo.processInfo.environment["EMFLOW_BENCH_SHAPE"] ?? "400,1024,1024")
        let dir = try TestEnvironment.temporaryDirectory("eval-bench")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("pair.h5").path
        let chunks = Coordinate(8, 256, 256), size = VoxelSize(40, 4, 4)
        let prediction = try Stores.create(StoreAddress(format: .hdf5, path: file, key: "prediction"),
                                           spec: VolumeSpec(shape: shape, dataType: .float32, chunkShape: chunks, voxelSize: size, codec: .raw))
        let truth = try Stores.create(StoreAddress(format: .hdf5, path: file, key: "truth"),
                                      spec: VolumeSpec(shape: shape, dataType: .uint8, chunkShape: chunks, voxelSize: size, codec: .raw))
        try EvaluationBenchmark.fillSynthetic(prediction: prediction, truth: truth)
        let result = try EvaluationBenchmark.measureStreaming(prediction: prediction, truth: truth)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: Self.output!))
        print("evaluation benchmark: \(ReportFormat.rate(result.bytesPerSecond)), \(result.seconds) s, peak RSS \(result.peakResidentBytes ?? -1) bytes")
        #expect(result.bytesRead == shape.product * 5)
        // Bounded memory: far below the 5 bytes per voxel of the pair.
        if let peak = result.peakResidentBytes { #expect(peak < shape.product * 5 / 2) }
    }
}
