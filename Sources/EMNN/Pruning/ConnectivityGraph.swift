import EMVolume

/// The channels of a U-Net and the kernel slabs between them, as pruning sees them.
///
/// A node is a channel: an input image channel, a unit (an output channel of an encoder or
/// decoder convolution), a relay (an output channel of an upsampling transposed convolution) or
/// an output logit. A slab is one `(output channel, input channel)` kernel of a layer and links
/// its input node (source) to its output node (destination); a unit's fan-out therefore counts
/// every consumer, the next convolution, the upsampler and the decoder convolution reading it
/// through the skip connection alike. Encoder and decoder convolutions are prunable, except the
/// first one (it reads the image); upsamplers and the 1x1x1 head are fixed.
public final class ConnectivityGraph {
    /// What a node is.
    public enum NodeKind: String, Codable, Sendable {
        /// A channel of the input image.
        case input
        /// An output channel of an encoder or decoder convolution (the pruning unit).
        case unit
        /// An output channel of an upsampling transposed convolution.
        case relay
        /// An output logit.
        case output
    }

    /// One channel.
    public struct Node: Sendable {
        /// What the channel is.
        public let kind: NodeKind
        /// The layer producing it (`nil` for the image).
        public let layer: Int?
        /// Its channel index in that layer's output (or the image).
        public let channel: Int
    }

    /// One layer with a weight of slabs.
    public struct GraphLayer {
        /// `encoder.L.convI`, `decoder.L.convI`, `upsample.L` or `head`.
        public let name: String
        /// The weight (mask and values).
        public let weight: Parameter
        /// The bias.
        public let bias: Parameter
        /// Weights are `[in, out, ...]` (transposed convolution) rather than `[out, in, ...]`.
        public let transposed: Bool
        /// Whether its slabs may be pruned.
        public let prunable: Bool
        /// The node each input channel comes from.
        public let inputNodes: [Int]
        /// The node of each output channel.
        public let outputNodes: [Int]

        /// Index of slab `(output, input)` in the weight's mask.
        public func maskIndex(output: Int, input: Int) -> Int {
            transposed ? input * outputNodes.count + output : output * inputNodes.count + input
        }
    }

    /// One kernel slab.
    public struct Slab: Sendable {
        /// Layer index.
        public let layer: Int
        /// Output channel in the layer.
        public let output: Int
        /// Input channel in the layer.
        public let input: Int
        /// Source node (the input channel's).
        public let source: Int
        /// Destination node (the output channel's).
        public let destination: Int
        /// Whether the slab may be pruned.
        public let prunable: Bool
    }

    /// Layers in forward order.
    public let layers: [GraphLayer]
    /// All channels.
    public let nodes: [Node]
    /// All slabs, layer by layer.
    public let slabs: [Slab]
    /// Indices (into `slabs`) of the prunable slabs.
    public let prunableSlabs: [Int]
    /// Slabs arriving at each node.
    public let incoming: [[Int]]
    /// Slabs leaving each node.
    public let outgoing: [[Int]]
    /// Layer index by name.
    public let layerIndex: [String: Int]

    /// Reads the structure of `network` (the parameters are shared, not copied).
    public init(network: UNet) {
        var layers: [GraphLayer] = []
        var nodes: [Node] = []
        func addNodes(_ count: Int, kind: NodeKind, layer: Int?) -> [Int] {
            let first = nodes.count
            nodes += (0..<count).map { Node(kind: kind, layer: layer, channel: $0) }
            return Array(first..<nodes.count)
        }
        func add(_ name: String, weight: Parameter, bias: Parameter, transposed: Bool, prunable: Bool, inputs: [Int], kind: NodeKind) -> [Int] {
            let outputs = addNodes(bias.shape[0], kind: kind, layer: layers.count)
            layers.append(GraphLayer(name: name, weight: weight, bias: bias, transposed: transposed, prunable: prunable,
                                     inputNodes: inputs, outputNodes: outputs))
            return outputs
        }
        let c = network.configuration
        func block(_ side: String, level: Int, _ layerList: [Layer], inputs: [Int]) -> [Int] {
            var current = inputs
            for (i, convolution) in layerList.compactMap({ $0 as? Convolution }).enumerated() {
                current = add("\(side).\(level).conv\(i)", weight: convolution.weight, bias: convolution.bias, transposed: false,
                              prunable: !(side == "encoder" && level == 0 && i == 0), inputs: current, kind: .unit)
            }
            return current
        }
        var current = addNodes(c.inputChannels, kind: .input, layer: nil)
        var skips: [[Int]] = []
        for level in 0..<c.depth {
            current = block("encoder", level: level, network.encoder[level], inputs: current)
            skips.append(current)
        }
        for level in (0..<(c.depth - 1)).reversed() {
            let up = network.upsamplers[level]
            let relays = add("upsample.\(level)", weight: up.weight, bias: up.bias, transposed: true, prunable: false,
                             inputs: current, kind: .relay)
            current = block("decoder", level: level, network.decoder[level], inputs: skips[level] + relays)
        }
        _ = add("head", weight: network.head.weight, bias: network.head.bias, transposed: false, prunable: false,
                inputs: current, kind: .output)

        var slabs: [Slab] = []
        var incoming = [[Int]](repeating: [], count: nodes.count), outgoing = incoming
        for (index, layer) in layers.enumerated() {
            for o in 0..<layer.outputNodes.count {
                for i in 0..<layer.inputNodes.count {
                    let slab = Slab(layer: index, output: o, input: i, source: layer.inputNodes[i], destination: layer.outputNodes[o],
                                    prunable: layer.prunable)
                    incoming[slab.destination].append(slabs.count)
                    outgoing[slab.source].append(slabs.count)
                    slabs.append(slab)
                }
            }
        }
        self.layers = layers
        self.nodes = nodes
        self.slabs = slabs
        self.incoming = incoming
        self.outgoing = outgoing
        prunableSlabs = slabs.indices.filter { slabs[$0].prunable }
        layerIndex = Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1.name, $0) })
    }

    /// The nodes of `kind`.
    public func nodes(of kind: NodeKind) -> [Int] { nodes.indices.filter { nodes[$0].kind == kind } }

    /// `node` as `layer:channel` (e.g. `decoder.0.conv1:7`) or `input:0`.
    public func name(of node: Int) -> String {
        let n = nodes[node]
        return "\(n.layer.map { layers[$0].name } ?? "input"):\(n.channel)"
    }

    /// The current mask entry of a slab (1 where a layer has no mask).
    public func maskValue(_ slab: Int) -> Float {
        let s = slabs[slab], layer = layers[s.layer]
        return layer.weight.mask?[layer.maskIndex(output: s.output, input: s.input)] ?? 1
    }

    /// Whether each slab is currently kept (its mask entry is not zero).
    public func keptSlabs() -> [Bool] { slabs.indices.map { maskValue($0) != 0 } }

    /// The L2 norm of each slab's raw weights (masked slabs keep their last values).
    public func slabNorms() -> [Double] {
        var norms = [Double](repeating: 0, count: slabs.count)
        for (index, layer) in layers.enumerated() {
            let size = layer.weight.slabSize
            let first = slabs.firstIndex { $0.layer == index } ?? 0
            layer.weight.value.withUnsafeBufferPointer { w in
                for o in 0..<layer.outputNodes.count {
                    for i in 0..<layer.inputNodes.count {
                        let base = layer.maskIndex(output: o, input: i) * size
                        var sum = 0.0
                        for t in 0..<size { sum += Double(w[base + t]) * Double(w[base + t]) }
                        norms[first + o * layer.inputNodes.count + i] = sum.squareRoot()
                    }
                }
            }
        }
        return norms
    }
}
