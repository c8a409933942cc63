import EMVolume

/// Count, extremes, mean and spread of some voxels; partial results of blocks combine exactly
/// for count and extremes and stably for mean and spread (Chan et al.'s pairwise update).
public struct VolumeStatistics: Codable, Hashable, Sendable {
    /// Number of voxels.
    public var count: Int
    /// Smallest value.
    public var minimum: Double
    /// Largest value.
    public var maximum: Double
    /// Mean value.
    public var mean: Double
    /// Sum of squared differences from the mean.
    public var squaredDeviations: Double

    /// Statistics of no voxels.
    public static let empty = VolumeStatistics(count: 0, minimum: .infinity, maximum: -.infinity, mean: 0, squaredDeviations: 0)

    /// Population standard deviation.
    public var standardDeviation: Double { count > 0 ? (squaredDeviations / Double(count)).squareRoot() : 0 }

    /// The statistics of the union of two disjoint sets of voxels.
    public func combined(with other: VolumeStatistics) -> VolumeStatistics {
        if other.count == 0 { return self }
        if count == 0 { return other }
        let n = Double(count + other.count)
        let delta = other.mean - mean
        return VolumeStatistics(count: count + other.count, minimum: Swift.min(minimum, other.minimum), maximum: Swift.max(maximum, other.maximum),
                                mean: mean + delta * Double(other.count) / n,
                                squaredDeviations: squaredDeviations + other.squaredDeviations + delta * delta * Double(count) * Double(other.count) / n)
    }
}

/// Statistics of one volume and, for 8- and 16-bit volumes, its histogram of values.
struct MeasureVolume: VolumeOperation {
    /// Also count values into a histogram (only for uint8 and uint16 volumes).
    let histogram: Bool

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> (VolumeStatistics, [Int]?) {
        var minimum = Double.infinity, maximum = -Double.infinity, sum = 0.0
        var bins: [Int]? = histogram && (T.dataType == .uint8 || T.dataType == .uint16) ? [Int](repeating: 0, count: T.dataType == .uint8 ? 256 : 65536) : nil
        volume.storage.withUnsafeBufferPointer { source in
            for value in source {
                let v = value.doubleValue
                minimum = Swift.min(minimum, v)
                maximum = Swift.max(maximum, v)
                sum += v
            }
            if bins != nil {
                bins!.withUnsafeMutableBufferPointer { counts in
                    for value in source { counts[Int(value.doubleValue)] += 1 }
                }
            }
        }
        let count = volume.storage.count
        let mean = count > 0 ? sum / Double(count) : 0
        var squared = 0.0
        volume.storage.withUnsafeBufferPointer { source in
            for value in source {
                let d = value.doubleValue - mean
                squared += d * d
            }
        }
        let statistics = count == 0 ? VolumeStatistics.empty
            : VolumeStatistics(count: count, minimum: minimum, maximum: maximum, mean: mean, squaredDeviations: squared)
        return (statistics, bins)
    }
}

/// The nearest-rank percentile of a histogram of integer values: the smallest value `v` such
/// that at least `percent`% of the values are at most `v`.
func percentile(_ percent: Double, of histogram: [Int]) -> Double {
    let total = histogram.reduce(0, +)
    guard total > 0 else { return 0 }
    let rank = Swift.max(1, Int((percent / 100 * Double(total)).rounded(.up)))
    var cumulative = 0
    for (value, count) in histogram.enumerated() {
        cumulative += count
        if cumulative >= rank { return Double(value) }
    }
    return Double(histogram.count - 1)
}
