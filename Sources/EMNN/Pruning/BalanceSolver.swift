import Foundation

/// The selectivity-audience balance of Budgeted Broadcast: target degrees
/// `k_i = clip(log((1 - a_i) / a_i) / beta, lower_i, upper_i)`, with `beta` solved so that the
/// integer targets sum exactly to a budget.
public enum BalanceSolver {
    /// The solved multiplier and the integer target degree of every unit.
    public struct Solution: Equatable, Sendable {
        /// The Lagrange multiplier (`.infinity` when every unit sits at its lower bound).
        public var beta: Double
        /// Integer target degrees, `lower_i <= k_i <= upper_i`, summing to the budget.
        public var targets: [Int]
    }

    /// Solves for `beta` by bisection on `log(beta)` so that the real targets sum to `total`,
    /// then rounds them by largest remainder so the integers sum to `total` exactly.
    ///
    /// - Parameters:
    ///   - logOdds: `log((1 - a_i) / a_i)` per unit; must be positive (on-rates below 1/2).
    ///   - lower: smallest degree per unit.
    ///   - upper: largest degree per unit (at least `lower`).
    ///   - total: the budget, clamped into `[sum lower, sum upper]`.
    public static func solve(logOdds: [Double], lower: [Int], upper: [Int], total: Int) -> Solution {
        precondition(logOdds.count == lower.count && lower.count == upper.count)
        precondition(zip(lower, upper).allSatisfy { $0 <= $1 } && logOdds.allSatisfy { $0 > 0 })
        let minimum = lower.reduce(0, +), maximum = upper.reduce(0, +)
        let budget = min(max(total, minimum), maximum)
        if budget == maximum { return Solution(beta: 0, targets: upper) }
        if budget == minimum { return Solution(beta: .infinity, targets: lower) }
        func targets(_ beta: Double) -> [Double] {
            logOdds.indices.map { min(max(logOdds[$0] / beta, Double(lower[$0])), Double(upper[$0])) }
        }
        func sum(_ beta: Double) -> Double { targets(beta).reduce(0, +) }
        // The sum falls monotonically with beta; keep `low` on the side at or above the budget.
        var low = -60.0, high = 60.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if sum(exp(middle)) >= Double(budget) { low = middle } else { high = middle }
        }
        let beta = exp(low)
        let real = targets(beta)
        var integers = real.map { Int($0.rounded(.down)) }
        var remaining = budget - integers.reduce(0, +)
        let order = real.indices.sorted { (real[$0] - real[$0].rounded(.down), -$0) > (real[$1] - real[$1].rounded(.down), -$1) }
        for pass in 0..<2 where remaining > 0 {
            for i in order where remaining > 0 && integers[i] < upper[i] && (pass == 1 || real[i] > Double(integers[i])) {
                integers[i] += 1
                remaining -= 1
            }
        }
        return Solution(beta: beta, targets: integers)
    }

    /// `log((1 - a) / a)` with `a` clamped into `range` (whose upper end must be below 1/2 so the
    /// balance is defined for every unit).
    public static func logOdds(_ onRate: Double, range: ClosedRange<Double>) -> Double {
        let a = min(max(onRate, range.lowerBound), range.upperBound)
        return log((1 - a) / a)
    }
}
