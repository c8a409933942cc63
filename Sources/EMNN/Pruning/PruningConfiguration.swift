import Foundation

/// How a training run prunes its U-Net (the `pruning:` block of a training configuration).
///
/// Masks act on whole kernel slabs (one output channel x one input channel). From step
/// `warmup` on, every `refreshEvery` steps the masks are re-chosen at the scheduled density,
/// which falls from 1 to `targetDensity` along a cubic ramp of `rampSteps` steps and then holds.
public struct PruningConfiguration: Codable, Equatable, Sendable {
    /// Which rule chooses the kept slabs.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// No pruning (on-rates and diagnostics are still recorded).
        case dense
        /// Budgeted Broadcast, SP-in: each unit keeps its top-k incoming slabs.
        case bbIn = "bb-in"
        /// Budgeted Broadcast, SP-out: each unit keeps its top-k outgoing slabs over all consumers.
        case bbOut = "bb-out"
        /// Budgeted Broadcast, both actuators: half the pruned slabs by SP-in, then half by SP-out.
        case bbBoth = "bb-both"
        /// Global magnitude: the slabs with the largest L2 norms.
        case magnitude
        /// Random slabs (a fixed random priority per slab, so masks are nested as density falls).
        case random

        /// Whether the method uses the Budgeted Broadcast balance.
        public var isBudgetedBroadcast: Bool { self == .bbIn || self == .bbOut || self == .bbBoth }
    }

    /// The rule.
    public var method: Method
    /// Kept prunable slabs / all prunable slabs at the end of the ramp, in (0, 1].
    public var targetDensity: Double
    /// Dense steps before the first refresh.
    public var warmup: Int
    /// Steps between mask refreshes.
    public var refreshEvery: Int
    /// Steps of the cubic ramp from density 1 (at `warmup`) to `targetDensity`.
    public var rampSteps: Int
    /// Whether a refresh may bring back pruned slabs (choosing over the full rows) or only keeps
    /// a subset of the slabs kept so far.
    public var regrowth: Bool
    /// Whether a unit's kept incoming slabs are scaled by `sqrt(n_in / fan_in)` to preserve the
    /// variance of its pre-activation.
    public var rescale: Bool
    /// Rate of the exponential moving average of each unit's on-rate (per training step).
    public var onRateRate: Double
    /// On-rates are clamped into `[minimumOnRate, maximumOnRate]` before the balance; the upper
    /// end must stay below 1/2, where `log((1 - a) / a)` turns negative.
    public var minimumOnRate: Double
    /// See `minimumOnRate`.
    public var maximumOnRate: Double
    /// Smallest degree a BB target may give a unit in the pruned direction. The default 1 keeps
    /// every layer connected; 0 follows the balance all the way, so a busy unit can lose its
    /// whole audience (measured: on a 4-wide decoder layer bb-both at 0.3 then cut every unit).
    /// When the budget cannot give every unit this floor, the refresh drops it to keep the density exact.
    public var minimumDegree: Int
    /// Seed of the random baseline and of the voxels sampled for correlations.
    public var seed: UInt64
    /// Voxels sampled per layer for the mean absolute correlation between units.
    public var correlationSamples: Int

    /// Creates a configuration.
    public init(method: Method, targetDensity: Double = 1, warmup: Int = 0, refreshEvery: Int = 10, rampSteps: Int = 0,
                regrowth: Bool = true, rescale: Bool = true, onRateRate: Double = 0.05, minimumOnRate: Double = 0.001,
                maximumOnRate: Double = 0.45, minimumDegree: Int = 1, seed: UInt64 = 0, correlationSamples: Int = 512) {
        self.method = method
        self.targetDensity = targetDensity
        self.warmup = warmup
        self.refreshEvery = refreshEvery
        self.rampSteps = rampSteps
        self.regrowth = regrowth
        self.rescale = rescale
        self.onRateRate = onRateRate
        self.minimumOnRate = minimumOnRate
        self.maximumOnRate = maximumOnRate
        self.minimumDegree = minimumDegree
        self.seed = seed
        self.correlationSamples = correlationSamples
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case method, targetDensity, warmup, refreshEvery, rampSteps, regrowth, rescale, onRateRate
        case minimumOnRate, maximumOnRate, minimumDegree, seed, correlationSamples
    }

    /// The keys the `pruning` block may hold.
    public static let keys: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    /// Decodes a configuration; every key but `method` is optional.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .method)
        guard let method = Method(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .method, in: c, debugDescription:
                "unknown pruning method '\(name)'; use one of \(Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let d = PruningConfiguration(method: method)
        self.init(method: method,
                  targetDensity: try c.decodeIfPresent(Double.self, forKey: .targetDensity) ?? d.targetDensity,
                  warmup: try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup,
                  refreshEvery: try c.decodeIfPresent(Int.self, forKey: .refreshEvery) ?? d.refreshEvery,
                  rampSteps: try c.decodeIfPresent(Int.self, forKey: .rampSteps) ?? d.rampSteps,
                  regrowth: try c.decodeIfPresent(Bool.self, forKey: .regrowth) ?? d.regrowth,
                  rescale: try c.decodeIfPresent(Bool.self, forKey: .rescale) ?? d.rescale,
                  onRateRate: try c.decodeIfPresent(Double.self, forKey: .onRateRate) ?? d.onRateRate,
                  minimumOnRate: try c.decodeIfPresent(Double.self, forKey: .minimumOnRate) ?? d.minimumOnRate,
                  maximumOnRate: try c.decodeIfPresent(Double.self, forKey: .maximumOnRate) ?? d.maximumOnRate,
                  minimumDegree: try c.decodeIfPresent(Int.self, forKey: .minimumDegree) ?? d.minimumDegree,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed,
                  correlationSamples: try c.decodeIfPresent(Int.self, forKey: .correlationSamples) ?? d.correlationSamples)
    }

    /// Throws `NNError.invalidConfiguration` naming the `pruning.` key and what would work;
    /// `steps` is the run's length, which must leave room for the whole ramp.
    public func validate(steps: Int) throws {
        func fail(_ message: String) -> NNError { .invalidConfiguration("pruning.\(message)") }
        guard targetDensity > 0, targetDensity <= 1 else {
            throw fail("target_density is \(targetDensity); use a fraction of kept slabs in (0, 1], e.g. 0.3")
        }
        guard warmup >= 0 else { throw fail("warmup is \(warmup); use 0 or more dense steps") }
        guard refreshEvery >= 1 else { throw fail("refresh_every is \(refreshEvery); use 1 or more steps (10-200 is typical)") }
        guard rampSteps >= 0 else { throw fail("ramp_steps is \(rampSteps); use 0 (prune at once) or more") }
        guard onRateRate > 0, onRateRate <= 1 else { throw fail("on_rate_rate is \(onRateRate); use a rate in (0, 1], e.g. 0.05") }
        guard minimumOnRate > 0, minimumOnRate < maximumOnRate, maximumOnRate < 0.5 else {
            throw fail("minimum_on_rate \(minimumOnRate) and maximum_on_rate \(maximumOnRate) must satisfy 0 < minimum < maximum < 0.5 "
                + "(the balance log((1 - a) / a) = beta k needs on-rates below 1/2), e.g. 0.001 and 0.45")
        }
        guard minimumDegree >= 0 else { throw fail("minimum_degree is \(minimumDegree); use 0 or more slabs") }
        guard correlationSamples >= 2 else { throw fail("correlation_samples is \(correlationSamples); use 2 or more voxels, e.g. 512") }
        if method != .dense, warmup + rampSteps > steps {
            throw fail("warmup (\(warmup)) + ramp_steps (\(rampSteps)) = \(warmup + rampSteps) exceeds the run's \(steps) steps: "
                + "the target density would never be reached; shorten them or train longer")
        }
    }

    /// The scheduled density after `step` optimiser steps: 1 before `warmup`, then
    /// `rho + (1 - rho) (1 - t)^3` with `t = (step - warmup) / rampSteps` clamped to [0, 1].
    public func density(afterStep step: Int) -> Double {
        guard method != .dense else { return 1 }
        let t = rampSteps == 0 ? (step >= warmup ? 1 : 0) : min(max(Double(step - warmup) / Double(rampSteps), 0), 1)
        return targetDensity + (1 - targetDensity) * pow(1 - t, 3)
    }

    /// Whether masks are refreshed (and diagnostics recorded) after `step` optimiser steps.
    public func refreshes(afterStep step: Int) -> Bool {
        step >= max(warmup, 1) && (step - warmup) % refreshEvery == 0
    }
}
