import Foundation

/// Settings of the Adam / AdamW optimiser.
public struct AdamConfiguration: Codable, Equatable, Sendable {
    /// Step size.
    public var learningRate: Float
    /// Decay of the first moment.
    public var beta1: Float
    /// Decay of the second moment.
    public var beta2: Float
    /// Added to the root of the second moment.
    public var epsilon: Float
    /// Decoupled weight decay (AdamW) applied to parameters with more than one dimension; 0 is plain Adam.
    public var weightDecay: Float
    /// Gradients are scaled so their global L2 norm is at most this; `nil` disables clipping.
    public var gradientClipNorm: Float?

    /// Creates a configuration; defaults are PyTorch's Adam defaults with learning rate 1e-3.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, gradientClipNorm: Float? = nil) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.gradientClipNorm = gradientClipNorm
    }
}

/// Adam with optional decoupled weight decay (AdamW) and global gradient-norm clipping.
///
/// Moments are kept per parameter name, so a network can be rebuilt and its optimiser state
/// restored from a checkpoint.
public final class Adam {
    /// The settings used by the next step.
    public var configuration: AdamConfiguration
    /// Steps taken so far.
    public private(set) var step: Int
    /// First and second moments per parameter name.
    public private(set) var moments: [String: (first: [Float], second: [Float])]

    /// Creates an optimiser with no history.
    public init(configuration: AdamConfiguration = AdamConfiguration()) {
        self.configuration = configuration
        step = 0
        moments = [:]
    }

    /// Restores an optimiser from saved moments and step count.
    public init(configuration: AdamConfiguration, step: Int, moments: [String: (first: [Float], second: [Float])]) {
        self.configuration = configuration
        self.step = step
        self.moments = moments
    }

    /// Global L2 norm of the gradients of `parameters`.
    public static func gradientNorm(_ parameters: [Parameter]) -> Float {
        var sum = 0.0
        for parameter in parameters { for g in parameter.gradient { sum += Double(g) * Double(g) } }
        return Float(sum.squareRoot())
    }

    /// Clips, then updates every parameter from its gradient; returns the gradient norm before clipping.
    @discardableResult
    public func update(_ parameters: [Parameter]) -> Float {
        let norm = Self.gradientNorm(parameters)
        var scale: Float = 1
        if let limit = configuration.gradientClipNorm, norm > limit { scale = limit / (norm + 1e-6) }
        step += 1
        let c = configuration
        let correction1 = 1 - pow(c.beta1, Float(step)), correction2 = 1 - pow(c.beta2, Float(step))
        let stepSize = c.learningRate / correction1
        for parameter in parameters {
            var (m, v) = moments[parameter.name] ?? (Array(repeating: 0, count: parameter.value.count),
                                                     Array(repeating: 0, count: parameter.value.count))
            let decay = parameter.shape.count > 1 ? 1 - c.learningRate * c.weightDecay : 1
            let gradient = parameter.gradient
            var value = parameter.value
            for i in 0..<value.count {
                let g = gradient[i] * scale
                m[i] = c.beta1 * m[i] + (1 - c.beta1) * g
                v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g
                value[i] = value[i] * decay - stepSize * m[i] / ((v[i] / correction2).squareRoot() + c.epsilon)
            }
            parameter.value = value
            moments[parameter.name] = (m, v)
        }
        return norm
    }
}
