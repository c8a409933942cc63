import EMVolume

/// What compaction removed and what the compacted network costs.
public struct CompactionReport: Codable, Equatable, Sendable {
    /// One layer's output channels before and after.
    public struct LayerChannels: Codable, Equatable, Sendable {
        /// Layer name.
        public var name: String
        /// Output channels of the masked network.
        public var before: Int
        /// Live output channels kept by the compacted network.
        public var after: Int
    }

    /// Per unit and upsampling layer.
    public var layers: [LayerChannels]
    /// Units removed because nothing reads them.
    public var removedWithoutFanOut: Int
    /// Units removed because nothing feeds them (their constant output folded into consumers' biases).
    public var removedWithoutFanIn: Int
    /// Units without fan-in kept because their nonzero constant reaches a consumer whose borders
    /// (same padding) or upsampling make the constant non-uniform, so it cannot become a bias.
    public var constantUnitsKept: Int
    /// Layers that lost every channel and keep one placeholder channel with zero outgoing weights.
    public var placeholderChannels: Int
    /// Units (output channels of encoder and decoder convolutions) before, and live ones after
    /// (placeholders not counted).
    public var unitsBefore: Int
    /// See `unitsBefore`.
    public var unitsAfter: Int
}

/// Removes dead units from a pruned U-Net: a unit with no kept fan-out leaves its producer's
/// output channels and its consumers' input channels; a unit with no kept fan-in outputs the
/// constant `ReLU(bias)`, which is folded into its consumers' biases where that is exact. The
/// result is an ordinary network with per-layer widths, masks folded into its weights (the
/// variance rescale included) and 0/1 masks left where slabs of live channels stay pruned.
public enum Compaction {
    /// The compacted network (same predictions) and what was removed.
    public static func compact(_ network: UNet, threads: Int? = nil) throws -> (network: UNet, report: CompactionReport) {
        let c = network.configuration
        guard c.normalizationGroups == nil else {
            throw NNError.invalidConfiguration("compaction needs a network without group normalisation: its statistics mix the "
                + "channels of a group, so removing one changes the others (this one has \(c.normalizationGroups!) groups)")
        }
        let graph = ConnectivityGraph(network: network)
        let kept = graph.keptSlabs()
        let effective = graph.layers.map { $0.weight.effectiveValue }
        var removed = [Bool](repeating: false, count: graph.nodes.count)
        var biasShift = [Double](repeating: 0, count: graph.nodes.count)
        var withoutFanOut = 0, withoutFanIn = 0
        func bias(_ node: Int) -> Double {
            let n = graph.nodes[node]
            return Double(graph.layers[n.layer!].bias.value[n.channel]) + biasShift[node]
        }
        func slabSum(_ slab: Int) -> Double {
            let s = graph.slabs[slab], layer = graph.layers[s.layer], size = layer.weight.slabSize
            let base = layer.maskIndex(output: s.output, input: s.input) * size
            return effective[s.layer][base..<(base + size)].reduce(0) { $0 + Double($1) }
        }
        // A constant input is a constant bias only where every output voxel sees all its taps.
        func foldable(_ layer: ConnectivityGraph.GraphLayer) -> Bool {
            !layer.transposed && (c.padding == .valid || layer.weight.slabSize == 1)
        }
        var changed = true
        while changed {
            changed = false
            for node in graph.nodes.indices where !removed[node] && [.unit, .relay].contains(graph.nodes[node].kind) {
                let consumers = graph.outgoing[node].filter { kept[$0] && !removed[graph.slabs[$0].destination] }
                if consumers.isEmpty {
                    removed[node] = true
                    if graph.nodes[node].kind == .unit { withoutFanOut += 1 }
                    changed = true
                    continue
                }
                guard graph.nodes[node].kind == .unit,
                      !graph.incoming[node].contains(where: { kept[$0] && !removed[graph.slabs[$0].source] }) else { continue }
                let constant = max(bias(node), 0)
                guard constant == 0 || consumers.allSatisfy({ foldable(graph.layers[graph.slabs[$0].layer]) }) else { continue }
                for slab in consumers { biasShift[graph.slabs[slab].destination] += constant * slabSum(slab) }
                removed[node] = true
                withoutFanIn += 1
                changed = true
            }
        }
        let constantKept = graph.nodes(of: .unit).filter { node in
            !removed[node] && !graph.incoming[node].contains { kept[$0] && !removed[graph.slabs[$0].source] }
        }.count

        let liveUnits = graph.nodes(of: .unit).filter { !removed[$0] }.count
        // A layer left without channels (a branch of the U-Net pruned away) keeps one placeholder
        // channel whose outgoing weights are zero: a layer cannot have width 0, and what the
        // channel stood for is already in its consumers' biases (or was zero).
        var placeholder = [Bool](repeating: false, count: graph.nodes.count)
        var configuration = c
        var widths: [String: Int] = [:]
        var channels: [CompactionReport.LayerChannels] = []
        for layer in graph.layers where [.unit, .relay].contains(graph.nodes[layer.outputNodes[0]].kind) {
            if !layer.outputNodes.contains(where: { !removed[$0] }) {
                removed[layer.outputNodes[0]] = false
                placeholder[layer.outputNodes[0]] = true
            }
            let live = layer.outputNodes.filter { !removed[$0] }.count
            widths[layer.name] = live
            channels.append(.init(name: layer.name, before: layer.outputNodes.count, after: live))
        }
        configuration.layerWidths = widths
        let compacted = try UNet(configuration: configuration, threads: threads)
        let target = ConnectivityGraph(network: compacted)
        for (index, layer) in graph.layers.enumerated() {
            let outputs = layer.outputNodes.indices.filter { !removed[layer.outputNodes[$0]] }
            let inputs = layer.inputNodes.indices.filter { !removed[layer.inputNodes[$0]] }
            let destination = target.layers[index], size = layer.weight.slabSize
            precondition(destination.name == layer.name && destination.outputNodes.count == outputs.count
                && destination.inputNodes.count == inputs.count)
            var weights = [Float](repeating: 0, count: destination.weight.value.count)
            var mask = [Float](repeating: 1, count: outputs.count * inputs.count)
            for (o, oldO) in outputs.enumerated() {
                for (i, oldI) in inputs.enumerated() {
                    let from = layer.maskIndex(output: oldO, input: oldI), to = destination.maskIndex(output: o, input: i)
                    if placeholder[layer.inputNodes[oldI]] {
                        mask[to] = layer.prunable ? 0 : 1
                    } else {
                        weights[(to * size)..<((to + 1) * size)] = effective[index][(from * size)..<((from + 1) * size)]
                        if let old = layer.weight.mask, old[from] == 0 { mask[to] = 0 }
                    }
                }
            }
            destination.weight.value = weights
            try destination.weight.setMask(mask.contains(0) ? mask : nil)
            destination.bias.value = outputs.map { o in
                let node = layer.outputNodes[o]
                return Float(Double(layer.bias.value[o]) + biasShift[node])
            }
        }
        let report = CompactionReport(layers: channels, removedWithoutFanOut: withoutFanOut, removedWithoutFanIn: withoutFanIn,
                                      constantUnitsKept: constantKept, placeholderChannels: placeholder.filter { $0 }.count,
                                      unitsBefore: graph.nodes(of: .unit).count, unitsAfter: liveUnits)
        return (compacted, report)
    }
}
