/// Exponential moving averages of each node's on-rate: the fraction of voxels (over batch and
/// space) where its activation is above zero, updated once per training forward pass.
public final class OnRateTracker {
    /// The rate of the average: `a <- (1 - rate) a + rate * fraction`.
    public let rate: Double
    /// The current average per node of the graph (`nil` before its first observation).
    public private(set) var onRates: [Double?]
    private let graph: ConnectivityGraph

    /// Creates a tracker for every unit and relay of `graph`.
    public init(graph: ConnectivityGraph, rate: Double) {
        self.graph = graph
        self.rate = rate
        onRates = Array(repeating: nil, count: graph.nodes.count)
    }

    /// Folds in one activation of the layer `name` (ignored when the graph has no such layer).
    public func observe(layer name: String, activation: Tensor) {
        guard let index = graph.layerIndex[name] else { return }
        let nodes = graph.layers[index].outputNodes
        let fractions = Self.positiveFractions(activation)
        for (channel, node) in nodes.enumerated() where channel < fractions.count {
            onRates[node] = onRates[node].map { (1 - rate) * $0 + rate * fractions[channel] } ?? fractions[channel]
        }
    }

    /// Replaces the averages (when resuming); entries must match the graph's nodes.
    public func restore(_ values: [Double?]) {
        guard values.count == onRates.count else { return }
        onRates = values
    }

    /// The fraction of positive voxels per channel over every sample.
    public static func positiveFractions(_ activation: Tensor) -> [Double] {
        let channels = activation.shape.channels
        let sums = channelSums(activation) { x, _ in (x > 0 ? 1 : 0, 0) }.first
        let count = Double(activation.shape.batch * activation.spatialCount)
        return (0..<channels).map { c in (0..<activation.shape.batch).reduce(0.0) { $0 + sums[$1 * channels + c] } / count }
    }
}
