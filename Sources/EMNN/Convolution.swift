import EMVolume

/// A 3D convolution (stride 1 or more) with bias, optional fused ReLU and an optional
/// connectivity mask on its weight.
///
/// Forward and backward-data run in oneDNN on blocked layouts; the weight gradient comes from
/// im2col + OpenBLAS sgemm. Weights are `[out, in, kz, ky, kx]`.
public final class Convolution: Layer {
    let core: ConvolutionCore

    /// Creates a convolution with randomly initialised weights and bias (see `WeightInitialization`).
    ///
    /// - Parameters:
    ///   - name: prefix of the parameter names (`name.weight`, `name.bias`).
    ///   - kernel: kernel size per axis (any positive size, e.g. 1x3x3 or 3x3x3).
    ///   - padding: `.same` keeps the size (stride 1), `.valid` uses no padding.
    ///   - fusedReLU: apply ReLU to the output inside the convolution.
    ///   - seed: seed of the weight initialisation.
    ///   - initialization: how weights and bias are drawn.
    public init(name: String, inputChannels: Int, outputChannels: Int, kernel: Coordinate,
                stride: Coordinate = Coordinate(repeating: 1), padding: Padding = .same, fusedReLU: Bool = false,
                context: ComputeContext, seed: UInt64 = 0, initialization: WeightInitialization = .he) throws {
        let (low, high) = padding.amounts(kernel: kernel)
        core = try ConvolutionCore(kind: .convolution, name: name, inputChannels: inputChannels, outputChannels: outputChannels,
                                   kernel: kernel, stride: stride, paddingLow: low, paddingHigh: high, fusedReLU: fusedReLU,
                                   context: context, seed: seed, initialization: initialization)
    }

    /// The weight, `[out, in, kz, ky, kx]`, with its connectivity mask `[out, in]`.
    public var weight: Parameter { core.weight }
    /// The bias, `[out]`.
    public var bias: Parameter { core.bias }
    /// Weight and bias.
    public var parameters: [Parameter] { [core.weight, core.bias] }
    /// Kernel size.
    public var kernel: Coordinate { core.kernel }
    /// Input channel count.
    public var inputChannels: Int { core.inputChannels }
    /// Output channel count.
    public var outputChannels: Int { core.outputChannels }

    /// Bytes the im2col column buffer of the weight gradient may use; larger inputs are tiled over depth.
    public var weightGradientBudget: Int {
        get { core.weightGradients.columnBudget * 4 }
        set { core.weightGradients.columnBudget = max(1, newValue / 4) }
    }

    /// oneDNN's implementations of the forward and backward-data passes on `shape` (never `ref`:
    /// those are refused with `NNError.referenceImplementation`).
    public func implementations(for shape: TensorShape) throws -> (forward: String, backwardData: String) {
        try core.implementations(for: shape)
    }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape { try core.outputShape(for: shape) }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor { try core.forward(input, training: training) }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        try core.backward(outputGradient, inputGradient: true)!
    }

    /// Accumulates parameter gradients only, skipping the input gradient (for a network's first layer).
    public func backwardParameters(_ outputGradient: Tensor) throws {
        _ = try core.backward(outputGradient, inputGradient: false)
    }
}

/// A 3D transposed convolution (learned upsampling), typically with kernel = stride = the
/// pooling factor it undoes. Weights are `[in, out, kz, ky, kx]` as in PyTorch's ConvTranspose3d.
public final class TransposedConvolution: Layer {
    let core: ConvolutionCore

    /// Creates a transposed convolution with randomly initialised weights and bias (see `WeightInitialization`).
    public init(name: String, inputChannels: Int, outputChannels: Int, kernel: Coordinate, stride: Coordinate,
                fusedReLU: Bool = false, context: ComputeContext, seed: UInt64 = 0,
                initialization: WeightInitialization = .he) throws {
        core = try ConvolutionCore(kind: .transposed, name: name, inputChannels: inputChannels, outputChannels: outputChannels,
                                   kernel: kernel, stride: stride, paddingLow: .zero, paddingHigh: .zero, fusedReLU: fusedReLU,
                                   context: context, seed: seed, initialization: initialization)
    }

    /// The weight, `[in, out, kz, ky, kx]`, with its connectivity mask `[in, out]`.
    public var weight: Parameter { core.weight }
    /// The bias, `[out]`.
    public var bias: Parameter { core.bias }
    /// Weight and bias.
    public var parameters: [Parameter] { [core.weight, core.bias] }

    /// oneDNN's implementations of the forward and backward-data passes on `shape`.
    public func implementations(for shape: TensorShape) throws -> (forward: String, backwardData: String) {
        try core.implementations(for: shape)
    }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape { try core.outputShape(for: shape) }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor { try core.forward(input, training: training) }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        try core.backward(outputGradient, inputGradient: true)!
    }
}
