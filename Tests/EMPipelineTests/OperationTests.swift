@testable import EMPipeline
import EMVolume
import Foundation
import Testing

@Suite("Block operations")
struct OperationTests {
    @Test("threshold compares every voxel as a loop would", arguments: ThresholdStage.Comparison.allCases)
    func threshold(comparison: ThresholdStage.Comparison) throws {
        var generator = SeededGenerator(seed: 3)
        let values = (0..<500).map { _ in Float.random(in: 0...1, using: &generator) }
        let volume = Volume<Float>(box: Box(offset: Coordinate(2, 3, 4), shape: Coordinate(5, 10, 10)), storage: values)
        let mask = Threshold(value: 0.5, comparison: comparison).run(volume)
        let expected: [UInt8] = values.map { v in
            switch comparison {
            case .greater: return v > 0.5 ? 1 : 0
            case .greater_equal: return v >= 0.5 ? 1 : 0
            case .less: return v < 0.5 ? 1 : 0
            case .less_equal: return v <= 0.5 ? 1 : 0
            }
        }
        #expect(mask.storage == expected && mask.box == volume.box)
    }

    @Test("statistics of blocks combine to those of the whole")
    func statistics() {
        var generator = SeededGenerator(seed: 11)
        let values = (0..<3000).map { _ in UInt16.random(in: 0...4000, using: &generator) }
        let whole = Volume<UInt16>(box: Box(shape: Coordinate(3, 10, 100)), storage: values)
        var combined = VolumeStatistics.empty
        var histogram = [Int](repeating: 0, count: 65536)
        for z in 0..<3 {
            let (part, bins) = MeasureVolume(histogram: true).run(whole.cropped(to: Box(offset: Coordinate(z, 0, 0), shape: Coordinate(1, 10, 100))))
            combined = combined.combined(with: part)
            for i in bins!.indices { histogram[i] += bins![i] }
        }
        let doubles = values.map(Double.init)
        let mean = doubles.reduce(0, +) / Double(doubles.count)
        let variance = doubles.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(doubles.count)
        #expect(combined.count == 3000)
        #expect(combined.minimum == doubles.min() && combined.maximum == doubles.max())
        #expect(abs(combined.mean - mean) < 1e-9)
        #expect(abs(combined.standardDeviation - variance.squareRoot()) < 1e-9)
        // Nearest-rank percentiles by sorting.
        let sorted = doubles.sorted()
        for p in [0.0, 1, 2.5, 50, 99, 100] {
            let rank = max(1, Int((p / 100 * 3000).rounded(.up)))
            #expect(percentile(p, of: histogram) == sorted[rank - 1], "percentile \(p)")
        }
    }

    @Test("affine normalisation with and without clipping")
    func affine() {
        let volume = Volume<UInt8>(box: Box(shape: Coordinate(1, 1, 5)), storage: [0, 10, 20, 30, 255])
        #expect(Affine(low: 10, high: 30, clip: true).run(volume).storage == [0, 0, 0.5, 1, 1])
        #expect(Affine(low: 10, high: 30, clip: false).run(volume).storage == [-0.5, 0, 0.5, 1, 12.25])
        #expect(Affine(low: 7, high: 7, clip: true).run(volume).storage == [0, 0, 0, 0, 0])
    }

    @Test("type conversion rounds and clamps")
    func conversion() {
        let volume = AnyVolume(Volume<Float>(box: Box(shape: Coordinate(1, 1, 4)), storage: [-3, 1.4, 1.6, 300]))
        guard case let .uint8(converted) = volume.converted(to: .uint8) else { Issue.record("expected uint8"); return }
        #expect(converted.storage == [0, 1, 2, 255])
    }
}
