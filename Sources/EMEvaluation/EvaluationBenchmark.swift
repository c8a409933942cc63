import Foundation
import EMVolume
import EMStorage

/// What a streaming-evaluation benchmark measured.
public struct StreamingBenchmarkResult: Hashable, Codable, Sendable {
    /// Volume extent (z, y, x).
    public var shape: Coordinate
    /// Bytes of prediction and truth read.
    public var bytesRead: Int
    /// Seconds the evaluation took.
    public var seconds: Double
    /// CPU seconds (user + system, all threads) the process used during the evaluation; on a
    /// shared machine this says more than `seconds`.
    public var cpuSeconds: Double?
    /// Bytes read per second.
    public var bytesPerSecond: Double
    /// Voxels evaluated per second.
    public var voxelsPerSecond: Double
    /// Peak resident memory of the process during the evaluation (Linux `VmHWM`, reset
    /// before it starts); nil where the system does not report it.
    public var peakResidentBytes: Int?
    /// Bytes of slab buffers the evaluation holds at once.
    public var slabBytes: Int
    /// The average precision found (a sanity value) and its histogram bound.
    public var averagePrecision: Double
    /// Width of the interval that contains the exact average precision.
    public var averagePrecisionBound: Double
    /// Objects found in the prediction.
    public var predictedObjects: Int
}

/// Measures streaming evaluation throughput and memory on stores (for `emflow bench`).
public enum EvaluationBenchmark {
    /// Fills `truth` (uint8) with a lattice of ellipsoidal "synapses" and `prediction`
    /// (float32) with scores that follow them plus deterministic noise, one chunk-deep z slab at
    /// a time (memory: one slab).
    ///
    /// - Throws: `StorageError.dataTypeMismatch` for other element types, `EvaluationError` for
    ///   mismatched shapes, and storage errors from the writes.
    public static func fillSynthetic(prediction: VolumeStore, truth: VolumeStore) throws {
        try prediction.checkType(.float32)
        try truth.checkType(.uint8)
        let shape = truth.metadata.shape
        guard prediction.metadata.shape == shape else {
            throw EvaluationError.shapeMismatch(what: "prediction \(prediction.address)", expected: "truth shape \(shape)", found: "\(prediction.metadata.shape)")
        }
        // A slab depth that is a multiple of both stores' chunk depths keeps writes aligned.
        let a = prediction.metadata.chunkShape.z, b = truth.metadata.chunkShape.z
        var g = a, h = b
        while h != 0 { (g, h) = (h, g % h) }
        let depth = a / g * b
        for z0 in stride(from: 0, to: shape.z, by: depth) {
            let box = Box(begin: Coordinate(z0, 0, 0), end: Coordinate(min(z0 + depth, shape.z), shape.y, shape.x))
            var scores = Volume<Float>.zeros(box), labels = Volume<UInt8>.zeros(box)
            scores.storage.withUnsafeMutableBufferPointer { s in
                labels.storage.withUnsafeMutableBufferPointer { t in
                    var i = 0
                    for z in box.offset.z..<box.end.z {
                        // Synapses every 8 sections, 64 x 64 voxels apart, radius 2 sections x 12 voxels.
                        let dz = Double((z % 8) - 4) / 2
                        for y in 0..<shape.y {
                            let dy = Double((y % 64) - 32) / 12
                            for x in 0..<shape.x {
                                let dx = Double((x % 64) - 32) / 12
                                let r = dz * dz + dy * dy + dx * dx
                                var hash = UInt64(truncatingIfNeeded: i &+ z &* 1_000_003) &* 0x9E37_79B9_7F4A_7C15
                                hash ^= hash >> 29
                                let noise = Double(hash & 0xFFFF) / 65535 * 0.3 - 0.15
                                t[i] = r <= 1 ? 1 : 0
                                s[i] = Float(min(1, max(0, 1 / (1 + r * r) + noise)))
                                i += 1
                            }
                        }
                    }
                }
            }
            try prediction.write(scores)
            try truth.write(labels)
        }
        try prediction.flush()
        try truth.flush()
    }

    /// Evaluates `prediction` against `truth` streaming (histogram sweep, objects of at least
    /// 50 voxels, CREMI off) and reports throughput and peak memory.
    public static func measureStreaming(prediction: VolumeStore, truth: VolumeStore,
                                        options: EvaluationOptions = EvaluationOptions(exactVoxelLimit: 0, objects: ObjectOptions(minimumSize: .voxels(50)),
                                                                                       cremi: nil, overlaySections: 0))
        throws -> StreamingBenchmarkResult {
        resetPeakResidentMemory()
        let cpuBefore = processCPUSeconds()
        let evaluation = try Evaluator.evaluate(prediction: prediction, truth: truth, options: options)
        let cpuAfter = processCPUSeconds()
        let cpu = cpuBefore.flatMap { before in cpuAfter.map { $0 - before } }
        let performance = evaluation.performance
        return StreamingBenchmarkResult(
            shape: evaluation.region.shape, bytesRead: performance.bytesRead, seconds: performance.seconds, cpuSeconds: cpu,
            bytesPerSecond: performance.bytesPerSecond, voxelsPerSecond: Double(performance.voxels) / max(performance.seconds, 1e-9),
            peakResidentBytes: peakResidentMemory(), slabBytes: performance.slabBytes,
            averagePrecision: evaluation.voxel.curve.averagePrecision, averagePrecisionBound: evaluation.voxel.curve.averagePrecisionRange.width,
            predictedObjects: evaluation.objects?.predictions.count ?? 0)
    }

    /// User plus system CPU time of this process so far.
    private static func processCPUSeconds() -> Double? {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return nil }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resets the kernel's peak-RSS counter of this process (Linux; no effect elsewhere).
    private static func resetPeakResidentMemory() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Peak resident memory of this process in bytes (Linux `VmHWM`).
    private static func peakResidentMemory() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
