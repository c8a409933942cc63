import EMVolume

/// A network layer with a forward and a backward pass.
///
/// `forward` with `training: true` keeps what `backward` needs; `backward` takes the gradient of
/// the loss with respect to the layer's last output, adds parameter gradients to each
/// `Parameter.gradient`, and returns the gradient with respect to the last input.
public protocol Layer: AnyObject {
    /// Trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// The output shape for an input of `shape`, or an error saying why the input does not fit.
    func outputShape(for shape: TensorShape) throws -> TensorShape
    /// Computes the output; with `training`, remembers what the backward pass needs.
    func forward(_ input: Tensor, training: Bool) throws -> Tensor
    /// Accumulates parameter gradients and returns the gradient of the input.
    func backward(_ outputGradient: Tensor) throws -> Tensor
}

/// How a convolution treats borders.
public enum Padding: String, Codable, Sendable {
    /// Zero padding so the output has the input's size (for stride 1).
    case same
    /// No padding: the output shrinks by the kernel size minus one.
    case valid

    /// Padding before and after each axis for `kernel`.
    func amounts(kernel: Coordinate) -> (low: Coordinate, high: Coordinate) {
        switch self {
        case .valid: return (.zero, .zero)
        case .same: return (kernel.map { ($0 - 1) / 2 }, kernel.map { $0 / 2 })
        }
    }
}

/// Throws unless `gradient` has the shape of the output the layer last produced.
func expectGradient(_ gradient: Tensor, matches shape: TensorShape?, layer: String) throws -> TensorShape {
    guard let shape else { throw NNError.shapeMismatch("\(layer): backward called without a training forward pass") }
    guard gradient.shape == shape else {
        throw NNError.shapeMismatch("\(layer): output gradient \(gradient.shape) does not match output \(shape)")
    }
    return shape
}
