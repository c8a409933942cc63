import EMVolume

/// A configurable 3D U-Net on the CPU (oneDNN + OpenBLAS).
///
/// `forward` returns logits; `backward` accumulates parameter gradients from the gradient of
/// the logits. Parameter names follow the layers: `encoder.L.convI`, `encoder.L.normI`,
/// `upsample.L`, `decoder.L.convI`, `decoder.L.normI`, `head`, each with `.weight` and `.bias`.
/// An instance is not thread-safe; give each worker thread its own.
public final class UNet {
    /// The architecture.
    public let configuration: UNetConfiguration
    /// The engine, stream and thread count the network runs with.
    public let context: ComputeContext
    let encoder: [[Layer]]
    let pools: [MaxPooling]
    let upsamplers: [TransposedConvolution]
    private let skips: [CropConcatenate]
    let decoder: [[Layer]]
    /// Called during `forward` with each convolution's name and its activation after ReLU (for
    /// `encoder.L.convI` and `decoder.L.convI`) or its output (for `upsample.L`), and whether the
    /// pass is a training pass. Used by pruning to measure on-rates.
    public var activationObserver: ((_ layer: String, _ activation: Tensor, _ training: Bool) -> Void)?
    /// The final 1x1x1 convolution to the output channels.
    public let head: Convolution

    /// Builds the network with freshly initialised weights (seeded by `configuration.seed`).
    ///
    /// - Parameter threads: threads for oneDNN and OpenBLAS; `nil` keeps the libraries' defaults.
    public init(configuration: UNetConfiguration, threads: Int? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        let context = try ComputeContext(threadCount: threads)
        self.context = context
        var seed = configuration.seed
        func nextSeed() -> UInt64 { seed &+= 0x9E37_79B9; return seed }
        let c = configuration
        func block(_ prefix: String, level: Int, inputChannels: Int) throws -> [Layer] {
            var layers: [Layer] = []
            var channels = inputChannels
            for i in 0..<c.convolutionsPerLevel {
                let width = c.width(layer: "\(prefix).\(level).conv\(i)", level: level)
                layers.append(try Convolution(name: "\(prefix).\(level).conv\(i)", inputChannels: channels, outputChannels: width,
                                              kernel: c.kernelSizes[level], padding: c.padding,
                                              fusedReLU: c.normalizationGroups == nil, context: context, seed: nextSeed(),
                                 initialization: c.initialization))
                if let groups = c.normalizationGroups {
                    layers.append(try GroupNormalization(name: "\(prefix).\(level).norm\(i)", channels: width, groups: groups))
                    layers.append(ReLU())
                }
                channels = width
            }
            return layers
        }
        encoder = try (0..<c.depth).map {
            try block("encoder", level: $0, inputChannels: $0 == 0 ? c.inputChannels : c.blockOutputWidth("encoder", level: $0 - 1))
        }
        pools = try c.poolingFactors.map { try MaxPooling(factor: $0, context: context) }
        upsamplers = try (0..<(c.depth - 1)).map {
            try TransposedConvolution(name: "upsample.\($0)", inputChannels: c.levelOutputWidth(level: $0 + 1),
                                      outputChannels: c.width(layer: "upsample.\($0)", level: $0),
                                      kernel: c.poolingFactors[$0], stride: c.poolingFactors[$0], context: context, seed: nextSeed(),
                                 initialization: c.initialization)
        }
        skips = (0..<(c.depth - 1)).map { _ in CropConcatenate() }
        decoder = try (0..<(c.depth - 1)).map {
            try block("decoder", level: $0,
                      inputChannels: c.blockOutputWidth("encoder", level: $0) + c.width(layer: "upsample.\($0)", level: $0))
        }
        head = try Convolution(name: "head", inputChannels: c.levelOutputWidth(level: 0), outputChannels: c.outputChannels,
                               kernel: Coordinate(repeating: 1), context: context, seed: nextSeed(),
                                 initialization: c.initialization)
    }

    /// Every layer with parameters, in forward order.
    private var layers: [Layer] {
        var result: [Layer] = []
        for level in 0..<configuration.depth { result += encoder[level] }
        for level in (0..<(configuration.depth - 1)).reversed() { result += [upsamplers[level]] + decoder[level] }
        return result + [head]
    }

    /// All trainable parameters in a stable order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Every convolution and transposed convolution (the weights connectivity masks apply to).
    public var maskableParameters: [Parameter] {
        layers.compactMap { ($0 as? Convolution)?.weight ?? ($0 as? TransposedConvolution)?.weight }
    }

    /// Total number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }

    /// Checks an input shape and returns the shape of the logits.
    public func outputShape(for input: TensorShape) throws -> TensorShape {
        guard input.channels == configuration.inputChannels else {
            throw NNError.shapeMismatch("the network takes \(configuration.inputChannels) input channel(s), got \(input)")
        }
        return TensorShape(batch: input.batch, channels: configuration.outputChannels,
                           spatial: try configuration.outputSize(for: input.spatial))
    }

    /// The logits for `input`; with `training`, keeps what `backward` needs.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        _ = try outputShape(for: input.shape)
        var x = input
        if let normalization = configuration.inputNormalization {
            let (mean, scale) = (normalization.mean, 1 / normalization.standardDeviation)
            mapRealElements(&x) { ($0 - mean) * scale }
        }
        var skipInputs: [Tensor] = []
        for level in 0..<configuration.depth {
            x = try forwardBlock(encoder[level], name: "encoder.\(level)", x, training: training)
            if level < configuration.depth - 1 {
                skipInputs.append(x)
                x = try pools[level].forward(x, training: training)
            }
        }
        for level in (0..<(configuration.depth - 1)).reversed() {
            let up = try upsamplers[level].forward(x, training: training)
            activationObserver?("upsample.\(level)", up, training)
            x = try skips[level].forward(skip: skipInputs[level], up: up, training: training)
            x = try forwardBlock(decoder[level], name: "decoder.\(level)", x, training: training)
        }
        return try head.forward(x, training: training)
    }

    /// Runs one level's convolutions, reporting each convolution's activation (after its ReLU).
    private func forwardBlock(_ layers: [Layer], name: String, _ input: Tensor, training: Bool) throws -> Tensor {
        let layersPerConvolution = configuration.normalizationGroups == nil ? 1 : 3
        var x = input
        for (index, layer) in layers.enumerated() {
            x = try layer.forward(x, training: training)
            if let activationObserver, (index + 1) % layersPerConvolution == 0 {
                activationObserver("\(name).conv\(index / layersPerConvolution)", x, training)
            }
        }
        return x
    }

    /// Accumulates parameter gradients from the gradient of the last training forward's logits.
    public func backward(_ outputGradient: Tensor) throws {
        var g = try head.backward(outputGradient)
        var skipGradients: [Tensor] = []
        for level in 0..<(configuration.depth - 1) {
            for layer in decoder[level].reversed() { g = try layer.backward(g) }
            let (skip, up) = try skips[level].backward(g)
            skipGradients.append(skip)
            g = try upsamplers[level].backward(up)
        }
        for level in (0..<configuration.depth).reversed() {
            if level < configuration.depth - 1 {
                g = try pools[level].backward(g)
                g.add(skipGradients[level])
            }
            for (index, layer) in encoder[level].enumerated().reversed() {
                if level == 0 && index == 0, let first = layer as? Convolution {
                    try first.backwardParameters(g)
                } else {
                    g = try layer.backward(g)
                }
            }
        }
    }

    /// The network's receptive field per axis.
    public var receptiveField: Coordinate { configuration.receptiveField }
    /// Context a block needs on each side (see `UNetConfiguration.halo`).
    public var halo: Coordinate { configuration.halo }
}

extension Tensor {
    /// Adds `other` (same shape, any layout) element by element.
    public mutating func add(_ other: Tensor) {
        precondition(other.shape == shape, "adding \(other.shape) to \(shape)")
        let source = other.converted(to: layout)
        let s = source.storage.pointer
        withUnsafeMutableBufferPointer { d in
            for i in 0..<d.count { d[i] += s[i] }
        }
    }
}
