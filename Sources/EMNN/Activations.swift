import Foundation

/// Rectified linear unit, `max(x, 0)`, as its own layer (convolutions can also fuse it).
public final class ReLU: Layer {
    private var savedOutput: Tensor?

    /// Creates a ReLU.
    public init() {}

    /// No parameters.
    public var parameters: [Parameter] { [] }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape { shape }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var output = input
        output.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count { y[i] = max(y[i], 0) }
        }
        savedOutput = training ? output : nil
        return output
    }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        guard let output = savedOutput else { throw NNError.shapeMismatch("ReLU: backward called without a training forward pass") }
        _ = try expectGradient(outputGradient, matches: output.shape, layer: "ReLU")
        var gradient = outputGradient.converted(to: output.layout)
        reluBackward(&gradient, output: output)
        return gradient
    }
}

/// The logistic function `1 / (1 + exp(-x))`, turning logits into probabilities.
public final class Sigmoid: Layer {
    private var savedOutput: Tensor?

    /// Creates a sigmoid.
    public init() {}

    /// No parameters.
    public var parameters: [Parameter] { [] }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape { shape }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var output = input
        mapRealElements(&output, logistic)
        savedOutput = training ? output : nil
        return output
    }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        guard let output = savedOutput else { throw NNError.shapeMismatch("sigmoid: backward called without a training forward pass") }
        _ = try expectGradient(outputGradient, matches: output.shape, layer: "sigmoid")
        var gradient = outputGradient.converted(to: output.layout)
        let y = output.storage.pointer
        gradient.withUnsafeMutableBufferPointer { g in
            for i in 0..<g.count { g[i] *= y[i] * (1 - y[i]) }
        }
        return gradient
    }
}

/// The logistic function, numerically safe for large |x|.
@inline(__always)
func logistic(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
}
