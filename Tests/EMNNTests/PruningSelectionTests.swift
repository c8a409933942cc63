import EMNN
import EMVolume
import Foundation
import Testing

/// A one-level network: encoder.0.conv0 (1 -> 4, reads the image, fixed), encoder.0.conv1
/// (4 -> 4, the only prunable layer: 16 slabs) and the head.
func oneLevelNetwork(width: Int = 4) throws -> UNet {
    try UNet(configuration: UNetConfiguration(depth: 1, baseWidth: width, kernelSizes: [Coordinate(1, 3, 3)], seed: 3), threads: 1)
}

/// Sets every tap of slab `(o, i)` of a `[out, in, ...]` weight to `values[o][i]`.
func setSlabs(_ parameter: Parameter, _ values: [[Float]]) {
    let size = parameter.slabSize, inputs = parameter.shape[1]
    var weights = parameter.value
    for (o, row) in values.enumerated() {
        for (i, v) in row.enumerated() { for t in 0..<size { weights[(o * inputs + i) * size + t] = v } }
    }
    parameter.value = weights
}

/// The kept `(output, input)` pairs of a `[out, in]` mask.
func keptPairs(_ parameter: Parameter) -> Set<[Int]> {
    let inputs = parameter.shape[1]
    return Set((parameter.mask ?? []).enumerated().filter { $0.element != 0 }.map { [$0.offset / inputs, $0.offset % inputs] })
}

@Suite("Pruning: balance solve and slab selection")
struct PruningSelectionTests {
    @Test("beta solve: integer targets sum exactly to the budget and stay within one of clip(L / beta)")
    func balanceSolve() {
        var generator = SeededGenerator(seed: 11)
        for trial in 0..<200 {
            let n = Int.random(in: 1...60, using: &generator)
            let logOdds = (0..<n).map { _ in Double.random(in: 0.01...7, using: &generator) }
            let lower = (0..<n).map { _ in Int.random(in: 0...3, using: &generator) }
            let upper = lower.map { $0 + Int.random(in: 0...40, using: &generator) }
            let total = Int.random(in: lower.reduce(0, +)...upper.reduce(0, +), using: &generator)
            let solution = BalanceSolver.solve(logOdds: logOdds, lower: lower, upper: upper, total: total)
            #expect(solution.targets.reduce(0, +) == total, "trial \(trial)")
            for i in 0..<n {
                #expect(solution.targets[i] >= lower[i] && solution.targets[i] <= upper[i])
                if solution.beta > 0 && solution.beta.isFinite {
                    let real = min(max(logOdds[i] / solution.beta, Double(lower[i])), Double(upper[i]))
                    #expect(abs(Double(solution.targets[i]) - real) < 1 + 1e-9, "trial \(trial) unit \(i)")
                }
            }
        }
        // Rarer units (larger log-odds) get at least the degree of busier ones.
        let s = BalanceSolver.solve(logOdds: [3, 1, 2], lower: [0, 0, 0], upper: [10, 10, 10], total: 12)
        #expect(s.targets == [6, 2, 4])
        #expect(abs(s.beta - 0.5) < 1e-9)
    }

    @Test("SP-in keeps each unit's top-k incoming slabs, k from the balance on its on-rate")
    func spIn() throws {
        let network = try oneLevelNetwork()
        let conv1 = network.maskableParameters[1]
        #expect(conv1.name == "encoder.0.conv1.weight")
        // Distinct slab magnitudes; the sign must not matter.
        setSlabs(conv1, [[0.1, -0.4, 0.3, 0.2], [0.5, 0.6, -0.7, 0.8], [-0.9, 0.1, 0.2, 0.3], [0.2, 0.1, 0.4, -0.3]])
        let pruner = Pruner(configuration: PruningConfiguration(method: .bbIn, targetDensity: 0.5, rescale: false, minimumDegree: 0),
                            network: network)
        // Units of conv1: two rare (a = 0.05) and two busy (a = 0.3) ones.
        var rates = pruner.tracker.onRates
        for (channel, a) in [0.05, 0.05, 0.3, 0.3].enumerated() { rates[pruner.graph.layers[1].outputNodes[channel]] = a }
        pruner.tracker.restore(rates)
        let (kept, beta) = pruner.select(density: 0.5)
        try pruner.install(kept)
        // 8 of 16 slabs: k = L / beta with L = log(19), log(7/3): 2 (L1 + L2) / beta = 8.
        let l1 = log(19.0), l2 = log(7.0 / 3)
        #expect(abs(beta! - 2 * (l1 + l2) / 8) < 1e-6)
        // Targets 3.11, 3.11, 0.89, 0.89 -> 3, 3, 1, 1 by largest remainder.
        #expect(keptPairs(conv1) == [[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3], [2, 0], [3, 2]])
        // Masks never touch the fixed first convolution.
        #expect(network.maskableParameters[0].mask == nil)
    }

    @Test("SP-out keeps each unit's top-k outgoing slabs over its consumers")
    func spOut() throws {
        let network = try oneLevelNetwork()
        let conv1 = network.maskableParameters[1]
        setSlabs(conv1, [[0.1, -0.4, 0.3, 0.2], [0.5, 0.6, -0.7, 0.8], [-0.9, 0.1, 0.2, 0.3], [0.2, 0.1, 0.4, -0.3]])
        let pruner = Pruner(configuration: PruningConfiguration(method: .bbOut, targetDensity: 0.5, rescale: false, minimumDegree: 0),
                            network: network)
        // Sources are conv0's units (columns of conv1); conv1's own units feed only the fixed head.
        var rates = pruner.tracker.onRates
        for (channel, a) in [0.05, 0.3, 0.05, 0.3].enumerated() { rates[pruner.graph.layers[0].outputNodes[channel]] = a }
        for channel in 0..<4 { rates[pruner.graph.layers[1].outputNodes[channel]] = 0.2 }
        pruner.tracker.restore(rates)
        try pruner.install(pruner.select(density: 0.5).kept)
        // Column 0 (rare): top 3 of |0.1, 0.5, 0.9, 0.2| -> rows 2, 1, 3; column 1 (busy): top 1 of
        // |0.4, 0.6, 0.1, 0.1| -> row 1; column 2 (rare): top 3 of |0.3, 0.7, 0.2, 0.4| -> 1, 3, 0;
        // column 3 (busy): top 1 of |0.2, 0.8, 0.3, 0.3| -> row 1.
        #expect(keptPairs(conv1) == [[2, 0], [1, 0], [3, 0], [1, 1], [1, 2], [3, 2], [0, 2], [1, 3]])
        // The head's slabs count in conv1's fan-out but are never pruned.
        let record = pruner.record(step: 1, scheduled: 0.5, beta: nil)
        #expect(record.units.filter { $0.unit.hasPrefix("encoder.0.conv1") }.map(\.fanOut) == [1, 1, 1, 1])
        #expect(record.units.filter { $0.unit.hasPrefix("encoder.0.conv0") }.map(\.fanOut) == [3, 1, 3, 1])
    }

    @Test("a unit's fan-out counts the next convolution and the decoder's skip consumer")
    func fanOutCountsSkips() throws {
        let network = try UNet(configuration: UNetConfiguration(depth: 2, baseWidth: 4, kernelSizes: [Coordinate(1, 3, 3), Coordinate(1, 3, 3)],
                                                                poolingFactors: [Coordinate(1, 2, 2)], seed: 1), threads: 1)
        let graph = ConnectivityGraph(network: network)
        let skipLayer = graph.layerIndex["encoder.0.conv1"]!
        let unit = graph.layers[skipLayer].outputNodes[2]
        let consumers = graph.outgoing[unit].map { graph.layers[graph.slabs[$0].layer].name }
        // 8 slabs into encoder.1.conv0 (through the pooling) and 4 into decoder.0.conv0 (through the skip).
        #expect(consumers.filter { $0 == "encoder.1.conv0" }.count == 8)
        #expect(consumers.filter { $0 == "decoder.0.conv0" }.count == 4)
        #expect(graph.outgoing[unit].count == 12)
        // decoder.0.conv0 reads [skip (4), upsampled (4)]: its input 2 is this unit.
        let decoder = graph.layers[graph.layerIndex["decoder.0.conv0"]!]
        #expect(decoder.inputNodes[2] == unit)
        #expect(graph.nodes[decoder.inputNodes[5]].kind == .relay)
        // Pruning one skip slab lowers the recorded fan-out by exactly one.
        let pruner = Pruner(configuration: PruningConfiguration(method: .magnitude), network: network)
        var kept = graph.keptSlabs()
        let skipSlab = graph.outgoing[unit].first { graph.layers[graph.slabs[$0].layer].name == "decoder.0.conv0" }!
        kept[skipSlab] = false
        try pruner.install(kept)
        let fanOut = pruner.record(step: 1, scheduled: 1, beta: nil).units.first { $0.unit == "encoder.0.conv1:2" }!.fanOut
        #expect(fanOut == 11)
    }

    @Test("every method keeps exactly round(density x prunable) slabs; magnitude keeps the largest; random masks are nested")
    func exactDensity() throws {
        let configuration = UNetConfiguration(depth: 3, baseWidth: 4, kernelSizes: Array(repeating: Coordinate(1, 3, 3), count: 3),
                                              poolingFactors: Array(repeating: Coordinate(1, 2, 2), count: 2), seed: 5)
        var previousRandom: [Bool]?
        for density in [0.5, 0.3, 0.1] {
            for method in [PruningConfiguration.Method.bbIn, .bbOut, .bbBoth, .magnitude, .random] {
                let network = try UNet(configuration: configuration, threads: 1)
                let pruner = Pruner(configuration: PruningConfiguration(method: method, targetDensity: density), network: network)
                var generator = SeededGenerator(seed: 9)
                pruner.tracker.restore(pruner.tracker.onRates.map { _ in Double.random(in: 0.01...0.7, using: &generator) })
                let (kept, _) = pruner.select(density: density)
                try pruner.install(kept)
                let prunable = pruner.graph.prunableSlabs
                let expected = Int((density * Double(prunable.count)).rounded())
                #expect(prunable.filter { kept[$0] }.count == expected, "\(method) at \(density)")
                #expect(abs(pruner.currentDensity! - Double(expected) / Double(prunable.count)) < 1e-12)
                #expect(pruner.graph.slabs.indices.allSatisfy { pruner.graph.slabs[$0].prunable || kept[$0] })
                if method == .magnitude {
                    let norms = pruner.graph.slabNorms()
                    let keptNorms = prunable.filter { kept[$0] }.map { norms[$0] }
                    let prunedNorms = prunable.filter { !kept[$0] }.map { norms[$0] }
                    #expect(keptNorms.min()! >= prunedNorms.max()!)
                }
                if method == .random {
                    if let previousRandom { #expect(prunable.allSatisfy { !kept[$0] || previousRandom[$0] }) }
                    previousRandom = kept
                }
            }
        }
    }

    @Test("with regrowth a pruned slab whose weight grew comes back; without, it stays pruned")
    func regrowth() throws {
        for regrowth in [true, false] {
            let network = try oneLevelNetwork()
            let conv1 = network.maskableParameters[1]
            setSlabs(conv1, [[0.1, -0.4, 0.3, 0.2], [0.5, 0.6, -0.7, 0.8], [-0.9, 0.1, 0.2, 0.3], [0.2, 0.1, 0.4, -0.3]])
            let pruner = Pruner(configuration: PruningConfiguration(method: .bbIn, targetDensity: 0.5, regrowth: regrowth), network: network)
            pruner.tracker.restore(pruner.tracker.onRates.map { _ in 0.1 })
            try pruner.install(pruner.select(density: 0.5).kept)
            // Equal on-rates: every unit keeps its top 2; slab (0, 0) (norm 0.1) is pruned.
            #expect(keptPairs(conv1) == [[0, 1], [0, 2], [1, 3], [1, 2], [2, 0], [2, 3], [3, 2], [3, 3]])
            var values = conv1.value
            for t in 0..<conv1.slabSize { values[t] = 2 }
            conv1.value = values
            try pruner.install(pruner.select(density: 0.5).kept)
            #expect(keptPairs(conv1).contains([0, 0]) == regrowth)
            #expect(keptPairs(conv1).count == 8)
        }
    }

    @Test("rescale sets a unit's kept slabs to sqrt(n_in / fan_in)")
    func rescale() throws {
        let network = try oneLevelNetwork()
        let pruner = Pruner(configuration: PruningConfiguration(method: .magnitude), network: network)
        var kept = pruner.graph.keptSlabs()
        let row0 = pruner.graph.incoming[pruner.graph.layers[1].outputNodes[0]]
        kept[row0[0]] = false
        kept[row0[1]] = false
        kept[row0[2]] = false
        try pruner.install(kept)
        let mask = network.maskableParameters[1].mask!
        #expect(Array(mask[0..<4]) == [0, 0, 0, 2])
        #expect(Array(mask[4..<16]).allSatisfy { $0 == 1 })
    }

    @Test("the schedule: dense warm-up, refreshes every N steps, cubic ramp to the target, then held")
    func schedule() throws {
        let p = PruningConfiguration(method: .bbBoth, targetDensity: 0.2, warmup: 10, refreshEvery: 5, rampSteps: 20)
        #expect(p.density(afterStep: 5) == 1 && p.density(afterStep: 10) == 1)
        #expect(abs(p.density(afterStep: 20) - (0.2 + 0.8 * 0.125)) < 1e-12)
        #expect(p.density(afterStep: 30) == 0.2 && p.density(afterStep: 95) == 0.2)
        #expect((1...40).filter { p.refreshes(afterStep: $0) } == [10, 15, 20, 25, 30, 35, 40])
        #expect(PruningConfiguration(method: .dense).density(afterStep: 50) == 1)
        #expect(throws: NNError.self) { try p.validate(steps: 25) }
        try p.validate(steps: 30)
        for bad in [PruningConfiguration(method: .random, targetDensity: 0), PruningConfiguration(method: .random, refreshEvery: 0),
                    PruningConfiguration(method: .random, maximumOnRate: 0.6), PruningConfiguration(method: .random, onRateRate: 0)] {
            #expect(throws: NNError.self) { try bad.validate(steps: 100) }
        }
        let json = #"{"method": "bb-out", "targetDensity": 0.3, "warmup": 4}"#
        let decoded = try JSONDecoder().decode(PruningConfiguration.self, from: Data(json.utf8))
        #expect(decoded == PruningConfiguration(method: .bbOut, targetDensity: 0.3, warmup: 4))
        do {
            _ = try JSONDecoder().decode(PruningConfiguration.self, from: Data(#"{"method": "l1"}"#.utf8))
            Issue.record("an unknown method decoded")
        } catch {
            #expect("\(error)".contains("unknown pruning method 'l1'"))
        }
    }
}
