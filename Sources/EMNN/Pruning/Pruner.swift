import Foundation

/// Runs a pruning method on a U-Net during training: measures on-rates on every training
/// forward pass, and after the scheduled steps re-chooses the masks and records diagnostics.
public final class Pruner {
    /// The settings.
    public let configuration: PruningConfiguration
    /// The network's channels and slabs.
    public let graph: ConnectivityGraph
    /// On-rate averages.
    public let tracker: OnRateTracker
    /// Whether a refresh has installed the target density (always true for `dense`).
    public private(set) var reachedTarget: Bool
    private var activations: [String: Tensor] = [:]
    private let randomPriority: [Double]

    /// Attaches to `network` (installing its activation observer).
    public init(configuration: PruningConfiguration, network: UNet) {
        self.configuration = configuration
        graph = ConnectivityGraph(network: network)
        tracker = OnRateTracker(graph: graph, rate: configuration.onRateRate)
        reachedTarget = configuration.method == .dense
        var generator = SeededGenerator(seed: configuration.seed ^ 0x5EED_0F_5AB5)
        randomPriority = graph.slabs.map { _ in Double.random(in: 0..<1, using: &generator) }
        network.activationObserver = { [weak self] name, activation, training in
            guard let self, training else { return }
            self.tracker.observe(layer: name, activation: activation)
            self.activations[name] = activation
        }
        if configuration.method != .dense, let density = currentDensity, abs(density - configuration.targetDensity) < 1e-9 {
            reachedTarget = true
        }
    }

    /// Kept prunable slabs / prunable slabs now (`nil` when nothing is prunable).
    public var currentDensity: Double? {
        guard !graph.prunableSlabs.isEmpty else { return nil }
        let kept = graph.keptSlabs()
        return Double(graph.prunableSlabs.filter { kept[$0] }.count) / Double(graph.prunableSlabs.count)
    }

    /// Call after each optimiser step: refreshes the masks when the schedule says so and returns
    /// the refresh's diagnostics, or `nil` between refreshes.
    public func afterStep(_ step: Int) throws -> PruningRecord? {
        guard configuration.refreshes(afterStep: step) else { return nil }
        let scheduled = configuration.density(afterStep: step)
        var beta: Double?
        if configuration.method != .dense {
            let (kept, solved) = select(density: scheduled)
            beta = solved
            try install(kept)
            if step >= configuration.warmup + configuration.rampSteps { reachedTarget = true }
        }
        return record(step: step, scheduled: scheduled, beta: beta)
    }

    /// The kept set of a refresh at `density` and the solved beta (BB methods only).
    public func select(density: Double) -> (kept: [Bool], beta: Double?) {
        let selection = SlabSelection(graph: graph, norms: graph.slabNorms(), kept: graph.keptSlabs(), regrowth: configuration.regrowth)
        let count = selection.budget(density: density)
        let range = configuration.minimumOnRate...configuration.maximumOnRate
        // A node never observed (no training pass yet) counts as maximally busy.
        let logOdds = tracker.onRates.map { BalanceSolver.logOdds($0 ?? 1, range: range) }
        let degree = configuration.minimumDegree
        switch configuration.method {
        case .dense: return (graph.slabs.map { _ in true }, nil)
        case .magnitude: return (selection.magnitude(count: count), nil)
        case .random: return (selection.global(count: count, priority: randomPriority), nil)
        case .bbIn:
            let (kept, beta) = selection.balance(count: count, incoming: true, logOdds: logOdds, minimumDegree: degree)
            return (kept, beta)
        case .bbOut:
            let (kept, beta) = selection.balance(count: count, incoming: false, logOdds: logOdds, minimumDegree: degree)
            return (kept, beta)
        case .bbBoth:
            // Half of the slabs to prune go by SP-in, the other half by SP-out among those left.
            let halfway = selection.budget(density: (1 + density) / 2)
            let first = selection.balance(count: halfway, incoming: true, logOdds: logOdds, minimumDegree: degree).kept
            let (kept, beta) = selection.balance(count: count, incoming: false, logOdds: logOdds, minimumDegree: degree, within: first)
            return (kept, beta)
        }
    }

    /// Writes `kept` into the masks of the prunable layers; with `rescale`, a unit's kept slabs
    /// get `sqrt(n_in / fan_in)` instead of 1.
    public func install(_ kept: [Bool]) throws {
        for (index, layer) in graph.layers.enumerated() where layer.prunable {
            let inputs = layer.inputNodes.count, outputs = layer.outputNodes.count
            let first = graph.incoming[layer.outputNodes[0]].first!
            var mask = [Float](repeating: 0, count: inputs * outputs)
            for o in 0..<outputs {
                let row = first + o * inputs
                precondition(graph.slabs[row].layer == index && graph.slabs[row].output == o)
                let fanIn = (0..<inputs).filter { kept[row + $0] }.count
                let scale = configuration.rescale && fanIn > 0 ? Float((Double(inputs) / Double(fanIn)).squareRoot()) : 1
                for i in 0..<inputs where kept[row + i] { mask[layer.maskIndex(output: o, input: i)] = scale }
            }
            try layer.weight.setMask(mask)
        }
    }

    /// The diagnostics of the network as it is now.
    public func record(step: Int, scheduled: Double, beta: Double?) -> PruningRecord {
        let kept = graph.keptSlabs()
        let keptCount = graph.prunableSlabs.filter { kept[$0] }.count
        var units: [PruningRecord.UnitSummary] = []
        var layers: [PruningRecord.LayerSummary] = []
        for layer in graph.layers where layer.outputNodes.first.map({ graph.nodes[$0].kind == .unit }) ?? false {
            var live = 0, layerKept = 0, layerSlabs = 0
            for node in layer.outputNodes {
                let fanIn = graph.incoming[node].filter { kept[$0] }.count
                let fanOut = graph.outgoing[node].filter { kept[$0] }.count
                if fanIn > 0 && fanOut > 0 { live += 1 }
                layerKept += fanIn
                layerSlabs += graph.incoming[node].count
                let a = tracker.onRates[node] ?? 0
                units.append(.init(unit: graph.name(of: node), onRate: a, logOdds: a > 0 && a < 1 ? log((1 - a) / a) : nil,
                                   fanIn: fanIn, fanOut: fanOut))
            }
            layers.append(.init(name: layer.name, density: Double(layerKept) / Double(max(layerSlabs, 1)), liveUnits: live,
                                units: layer.outputNodes.count))
        }
        let plotted = units.filter { $0.logOdds != nil }
        var generator = SeededGenerator(seed: configuration.seed ^ UInt64(step))
        var correlation = (sum: 0.0, pairs: 0)
        for layer in graph.layers where graph.nodes[layer.outputNodes[0]].kind == .unit {
            guard let activation = activations[layer.name] else { continue }
            let part = PruningStatistics.absoluteCorrelations(activation, samples: configuration.correlationSamples, using: &generator)
            correlation = (correlation.sum + part.sum, correlation.pairs + part.pairs)
        }
        return PruningRecord(step: step, method: configuration.method.rawValue, scheduledDensity: scheduled,
                             density: Double(keptCount) / Double(max(graph.prunableSlabs.count, 1)), keptSlabs: keptCount,
                             prunableSlabs: graph.prunableSlabs.count, beta: beta,
                             fittedBeta: PruningStatistics.slopeThroughOrigin(x: plotted.map { Double($0.fanOut) }, y: plotted.map { $0.logOdds! }),
                             entropy: units.reduce(0) { $0 + PruningStatistics.entropy($1.onRate) },
                             meanAbsoluteCorrelation: correlation.pairs > 0 ? correlation.sum / Double(correlation.pairs) : nil,
                             layers: layers, units: units)
    }

    /// The on-rates as text for a checkpoint's metadata (restored by `restore(onRates:)`).
    public var savedOnRates: String {
        tracker.onRates.map { $0.map { String($0) } ?? "-" }.joined(separator: ",")
    }

    /// Restores on-rates saved by `savedOnRates` and whether the target was reached.
    public func restore(onRates text: String?, reachedTarget: Bool) {
        if let text {
            tracker.restore(text.split(separator: ",").map { Double($0) })
        }
        self.reachedTarget = self.reachedTarget || reachedTarget
    }
}
