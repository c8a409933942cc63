/// Chooses the kept prunable slabs of a graph for one refresh: the Budgeted Broadcast actuators
/// (SP-in, SP-out, both) and the global magnitude and random baselines, all at one exact count.
public struct SlabSelection {
    /// The graph.
    public let graph: ConnectivityGraph
    /// L2 norm of each slab's raw weights (the ranking of every method but random).
    public let norms: [Double]
    /// Slabs kept before this refresh.
    public let kept: [Bool]
    /// Whether pruned slabs may come back (otherwise only currently kept slabs are candidates).
    public let regrowth: Bool

    /// Creates a selection over `graph` with the given norms and current kept set.
    public init(graph: ConnectivityGraph, norms: [Double], kept: [Bool], regrowth: Bool) {
        self.graph = graph
        self.norms = norms
        self.kept = kept
        self.regrowth = regrowth
    }

    /// Kept prunable slabs for a density: `round(density * prunable)`.
    public func budget(density: Double) -> Int {
        Int((density * Double(graph.prunableSlabs.count)).rounded())
    }

    /// Whether a prunable slab may be kept by this refresh.
    private func isCandidate(_ slab: Int, within allowed: [Bool]?) -> Bool {
        graph.slabs[slab].prunable && (allowed?[slab] ?? true) && (regrowth || kept[slab])
    }

    /// The `count` candidate prunable slabs ranked highest by `priority` (ties: lower index), as
    /// a kept set where every fixed slab is kept.
    public func global(count: Int, priority: [Double]) -> [Bool] {
        var result = graph.slabs.map { !$0.prunable }
        let candidates = graph.prunableSlabs.filter { isCandidate($0, within: nil) }
        for slab in candidates.sorted(by: { (priority[$0], -$0) > (priority[$1], -$1) }).prefix(count) { result[slab] = true }
        return result
    }

    /// Global magnitude pruning: the `count` largest slabs.
    public func magnitude(count: Int) -> [Bool] { global(count: count, priority: norms) }

    /// Budgeted Broadcast in one direction: every node with candidate slabs in that direction
    /// gets the balance target `k_i = clip(L_i / beta, lower_i, upper_i)` on its degree (fixed
    /// slabs of the direction counted, never pruned) and keeps its top-k candidates by norm;
    /// `beta` is solved so that exactly `count` prunable slabs are kept. `lower_i` is the fixed
    /// slabs plus `minimumDegree` candidates, or the fixed slabs alone when the budget is too small
    /// for every node's floor.
    ///
    /// - Parameters:
    ///   - incoming: SP-in (rank each unit's incoming slabs) or SP-out (each node's outgoing slabs).
    ///   - logOdds: `log((1 - a_i) / a_i)` per node (positive; used where a node has candidates).
    ///   - within: when given, only these slabs are candidates (the second stage of both).
    public func balance(count: Int, incoming: Bool, logOdds: [Double], minimumDegree: Int, within: [Bool]? = nil)
        -> (kept: [Bool], beta: Double) {
        var result = graph.slabs.map { !$0.prunable }
        var owners: [Int] = [], candidates: [[Int]] = [], fixed: [Int] = []
        for node in graph.nodes.indices {
            let slabs = incoming ? graph.incoming[node] : graph.outgoing[node]
            let own = slabs.filter { isCandidate($0, within: within) }
            guard !own.isEmpty else { continue }
            owners.append(node)
            candidates.append(own.sorted { (norms[$0], -$0) > (norms[$1], -$1) })
            fixed.append(slabs.filter { !graph.slabs[$0].prunable }.count)
        }
        var lower = owners.indices.map { fixed[$0] + min(minimumDegree, candidates[$0].count) }
        // The floor yields when the budget cannot cover it, so the density stays exact.
        if lower.reduce(0, +) > count + fixed.reduce(0, +) { lower = fixed }
        let upper = owners.indices.map { fixed[$0] + candidates[$0].count }
        let solution = BalanceSolver.solve(logOdds: owners.map { logOdds[$0] }, lower: lower, upper: upper,
                                           total: count + fixed.reduce(0, +))
        for (index, target) in solution.targets.enumerated() {
            for slab in candidates[index].prefix(target - fixed[index]) { result[slab] = true }
        }
        return (result, solution.beta)
    }
}
