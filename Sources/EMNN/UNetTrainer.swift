/// One optimisation step at a time for a U-Net: forward, loss, backward, Adam.
public final class UNetTrainer {
    /// The network being trained.
    public let network: UNet
    /// The optimiser (its state is part of a checkpoint).
    public let optimizer: Adam
    /// The loss weights.
    public var loss: LossConfiguration

    /// Creates a trainer with a fresh optimiser.
    public convenience init(network: UNet, optimizer: AdamConfiguration = AdamConfiguration(),
                            loss: LossConfiguration = LossConfiguration()) {
        self.init(network: network, optimizer: Adam(configuration: optimizer), loss: loss)
    }

    /// Creates a trainer around an existing (for example restored) optimiser.
    public init(network: UNet, optimizer: Adam, loss: LossConfiguration) {
        self.network = network
        self.optimizer = optimizer
        self.loss = loss
    }

    /// Trains on one batch and returns the loss before the update.
    ///
    /// - Parameters:
    ///   - input: images, `batch x inputChannels x input size`.
    ///   - target: labels in [0, 1], `batch x outputChannels x output size` (see `UNet.outputShape(for:)`).
    ///   - weightMask: optional per-voxel weights of the target's shape; 0 ignores a voxel.
    public func step(input: Tensor, target: Tensor, weightMask: Tensor? = nil) throws -> LossValue {
        network.zeroGradients()
        let logits = try network.forward(input, training: true)
        let (value, gradient) = try SegmentationLoss.evaluate(logits: logits, target: target, weights: weightMask, configuration: loss)
        try network.backward(gradient)
        optimizer.update(network.parameters)
        return value
    }

    /// Runs `body` with the optimiser's weight averages in the network (when it keeps any), then
    /// puts the training weights back.
    public func withAveragedWeights<T>(_ body: () throws -> T) rethrows -> T {
        let averages = optimizer.averages
        if averages.isEmpty { return try body() }
        var training: [(Parameter, [Float])] = []
        for parameter in network.parameters {
            guard let average = averages[parameter.name] else { continue }
            training.append((parameter, parameter.value))
            parameter.value = average
        }
        defer { for (parameter, value) in training { parameter.value = value } }
        return try body()
    }

    /// The loss on one batch without training.
    public func evaluate(input: Tensor, target: Tensor, weightMask: Tensor? = nil) throws -> LossValue {
        let logits = try network.forward(input, training: false)
        return try SegmentationLoss.evaluate(logits: logits, target: target, weights: weightMask, configuration: loss).value
    }
}
