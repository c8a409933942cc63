import Foundation

/// What a refresh records in the training log (the `pruning` field of a `TrainingRecord`).
public struct PruningRecord: Codable, Equatable, Sendable {
    /// Optimiser steps done.
    public var step: Int
    /// The method.
    public var method: String
    /// The scheduled density of this refresh.
    public var scheduledDensity: Double
    /// Kept prunable slabs / prunable slabs after the refresh.
    public var density: Double
    /// Kept prunable slabs.
    public var keptSlabs: Int
    /// Prunable slabs.
    public var prunableSlabs: Int
    /// The multiplier solved for the BB targets (`nil` for the other methods; both: SP-out's).
    public var beta: Double?
    /// Least-squares slope through the origin of `log((1 - a_i) / a_i)` against each unit's
    /// fan-out `k_i` (the balance the network actually shows).
    public var fittedBeta: Double?
    /// Coding entropy `sum_i H(a_i)` over units, in nats.
    public var entropy: Double
    /// Mean absolute Pearson correlation between the activations of units of one layer, over
    /// sampled voxels of the last training batch (pairs pooled over layers; constant units skipped).
    public var meanAbsoluteCorrelation: Double?
    /// Per layer: density, live and total units.
    public var layers: [LayerSummary]
    /// Per unit, the data of the balance plot.
    public var units: [UnitSummary]

    /// One layer's state.
    public struct LayerSummary: Codable, Equatable, Sendable {
        /// Layer name.
        public var name: String
        /// Kept slabs / slabs of the layer.
        public var density: Double
        /// Units with at least one kept incoming and one kept outgoing slab.
        public var liveUnits: Int
        /// Units (output channels).
        public var units: Int
    }

    /// One unit's point of the balance plot.
    public struct UnitSummary: Codable, Equatable, Sendable {
        /// `layer:channel`.
        public var unit: String
        /// On-rate `a_i` (EMA).
        public var onRate: Double
        /// `log((1 - a_i) / a_i)` of the unclamped on-rate (`nil` when it is 0 or 1).
        public var logOdds: Double?
        /// Kept incoming slabs.
        public var fanIn: Int
        /// Kept outgoing slabs over every consumer.
        public var fanOut: Int
    }
}

/// The statistics of a refresh record.
public enum PruningStatistics {
    /// Binary entropy `-a log a - (1 - a) log(1 - a)` in nats (0 at 0 and 1).
    public static func entropy(_ a: Double) -> Double {
        guard a > 0, a < 1 else { return 0 }
        return -a * log(a) - (1 - a) * log(1 - a)
    }

    /// Least-squares slope through the origin of `y` against `x` (`nil` when every x is 0).
    public static func slopeThroughOrigin(x: [Double], y: [Double]) -> Double? {
        let xx = zip(x, x).reduce(0) { $0 + $1.0 * $1.1 }
        guard xx > 0 else { return nil }
        return zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } / xx
    }

    /// Sum of `|r|` and number of channel pairs of one activation, over `samples` voxels drawn
    /// with `generator` (channels constant over the samples are skipped).
    public static func absoluteCorrelations(_ activation: Tensor, samples: Int,
                                            using generator: inout SeededGenerator) -> (sum: Double, pairs: Int) {
        let plain = activation.converted(to: .plain)
        let channels = activation.shape.channels, voxels = activation.spatialCount
        let total = activation.shape.batch * voxels
        let picks = (0..<min(samples, total)).map { _ in Int.random(in: 0..<total, using: &generator) }
        var columns = [[Double]](repeating: [], count: channels)
        plain.withUnsafeBufferPointer { x in
            for c in 0..<channels {
                columns[c] = picks.map { p in Double(x[((p / voxels) * channels + c) * voxels + p % voxels]) }
            }
        }
        let centred: [[Double]?] = columns.map { column in
            let mean = column.reduce(0, +) / Double(column.count)
            let deviations = column.map { $0 - mean }
            let norm = deviations.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 1e-12 ? deviations.map { $0 / norm } : nil
        }
        var sum = 0.0, pairs = 0
        for i in 0..<channels {
            guard let a = centred[i] else { continue }
            for j in (i + 1)..<channels {
                guard let b = centred[j] else { continue }
                sum += abs(zip(a, b).reduce(0) { $0 + $1.0 * $1.1 })
                pairs += 1
            }
        }
        return (sum, pairs)
    }
}
