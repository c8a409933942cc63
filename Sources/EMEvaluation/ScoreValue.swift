import EMVolume

/// A prediction voxel type usable as a score: `Float` probabilities, or `UInt8` / `UInt16`
/// scores that are scaled to [0, 1] by default (value / 255, value / 65535).
public protocol ScoreValue: VoxelScalar {
    /// A 32-bit key whose unsigned order is the order of the scores (-0 and +0 share a key).
    var orderKey: UInt32 { get }
    /// The score with a given order key (inverse of `orderKey`).
    init(orderKey: UInt32)
    /// False for NaN and infinities.
    var isFiniteScore: Bool { get }
    /// Factor that maps stored values to scores when no scale is given.
    static var defaultScale: Double { get }
    /// The largest finite score.
    static var greatestScore: Self { get }
    /// Number of distinct values for integer types (a histogram with one bin per value is
    /// exact); nil for floating point.
    static var distinctValues: Int? { get }
    /// The histogram bin of this score in `bins`.
    func bin(in bins: ScoreBins) -> Int
}

/// Equal-width bins over a score range, used by streaming evaluation of float scores.
///
/// Bin `k` holds scores in `[lower + k w, lower + (k+1) w)` with `w = (upper - lower) / count`;
/// scores below `lower` fall into bin 0 and scores at or above `upper` into the last bin.
public struct ScoreBins: Hashable, Codable, Sendable {
    /// Lower end of the range.
    public let lower: Double
    /// Upper end of the range.
    public let upper: Double
    /// Number of bins.
    public let count: Int
    /// `count / (upper - lower)`.
    public let inverseWidth: Double

    /// Creates `count` bins over `[lower, upper]`.
    ///
    /// - Throws: `EvaluationError.invalidOption` for an empty range or fewer than 2 bins.
    public init(lower: Double = 0, upper: Double = 1, count: Int = 1 << 16) throws {
        guard lower.isFinite, upper.isFinite, upper > lower else {
            throw EvaluationError.invalidOption(name: "score range", expected: "finite lower < upper, got \(lower)...\(upper)")
        }
        guard count >= 2, count <= 1 << 26 else {
            throw EvaluationError.invalidOption(name: "histogram bins", expected: "2 ... 2^26 bins, got \(count)")
        }
        self.lower = lower
        self.upper = upper
        self.count = count
        self.inverseWidth = Double(count) / (upper - lower)
    }

    /// The score at the lower edge of bin `k`.
    public func lowerEdge(_ k: Int) -> Double { lower + Double(k) / inverseWidth }

    /// The bin of a score given as a double.
    @inlinable
    public func bin(_ score: Double) -> Int {
        let position = (score - lower) * inverseWidth
        if !(position >= 0) { return 0 }
        return position >= Double(count) ? count - 1 : Int(position)
    }
}

extension Float: ScoreValue {
    @inlinable
    public var orderKey: UInt32 {
        let bits = (self + 0).bitPattern // + 0 turns -0 into +0
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    @inlinable
    public init(orderKey key: UInt32) {
        self = Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
    }

    @inlinable
    public var isFiniteScore: Bool { isFinite }
    public static var defaultScale: Double { 1 }
    public static var greatestScore: Float { .greatestFiniteMagnitude }
    public static var distinctValues: Int? { nil }

    @inlinable
    public func bin(in bins: ScoreBins) -> Int { bins.bin(Double(self)) }
}

extension UInt8: ScoreValue {
    @inlinable public var orderKey: UInt32 { UInt32(self) }
    @inlinable public init(orderKey key: UInt32) { self = UInt8(truncatingIfNeeded: key) }
    @inlinable public var isFiniteScore: Bool { true }
    public static var defaultScale: Double { 1.0 / 255 }
    public static var greatestScore: UInt8 { .max }
    public static var distinctValues: Int? { 256 }
    @inlinable public func bin(in bins: ScoreBins) -> Int { Int(self) }
}

extension UInt16: ScoreValue {
    @inlinable public var orderKey: UInt32 { UInt32(self) }
    @inlinable public init(orderKey key: UInt32) { self = UInt16(truncatingIfNeeded: key) }
    @inlinable public var isFiniteScore: Bool { true }
    public static var defaultScale: Double { 1.0 / 65535 }
    public static var greatestScore: UInt16 { .max }
    public static var distinctValues: Int? { 65536 }
    @inlinable public func bin(in bins: ScoreBins) -> Int { Int(self) }
}

extension ScoreValue {
    /// The smallest order key whose score (`value * scale`) is at least `threshold`, so that
    /// `UInt64(score.orderKey) >= key` decides "score >= threshold" with one integer compare;
    /// one past the largest finite key when no score reaches the threshold.
    public static func thresholdKey(for threshold: Double, scale: Double) -> UInt64 {
        var low: UInt64 = 0, high = UInt64(greatestScore.orderKey) + 1 // answer in low...high
        while low < high {
            let middle = (low + high) / 2
            if Self(orderKey: UInt32(middle)).doubleValue * scale >= threshold { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
