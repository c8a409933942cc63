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
    /// Decay of an exponential moving average of the weights kept beside them (e.g. 0.99: about the
    /// last 100 steps); validation and checkpoints use the average. `nil` keeps no average.
    public var averageDecay: Float?
    /// How the learning rate changes over a training run; `nil` keeps it constant.
    public var schedule: LearningRateSchedule?

    /// Throws `NNError.invalidConfiguration` for settings that cannot train (a negative or
    /// non-finite learning rate trains nothing or diverges, silently).
    public func validate() throws {
        func check(_ value: Float, _ key: String, _ range: String, _ ok: (Float) -> Bool) throws {
            guard value.isFinite, ok(value) else { throw NNError.invalidConfiguration("optimizer.\(key) is \(value); it must be \(range)") }
        }
        try check(learningRate, "learning_rate", "a finite number above 0 (e.g. 1e-3)") { $0 > 0 }
        try check(beta1, "beta1", "in [0, 1) (e.g. 0.9)") { $0 >= 0 && $0 < 1 }
        try check(beta2, "beta2", "in [0, 1) (e.g. 0.999)") { $0 >= 0 && $0 < 1 }
        try check(epsilon, "epsilon", "a finite number above 0 (e.g. 1e-8)") { $0 > 0 }
        try check(weightDecay, "weight_decay", "0 or more") { $0 >= 0 }
        if let clip = gradientClipNorm { try check(clip, "gradient_clip_norm", "a finite number above 0") { $0 > 0 } }
    }

    /// Creates a configuration; defaults are PyTorch's Adam defaults with learning rate 1e-3.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, gradientClipNorm: Float? = nil, averageDecay: Float? = nil, schedule: LearningRateSchedule? = nil) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.gradientClipNorm = gradientClipNorm
        self.averageDecay = averageDecay
        self.schedule = schedule
    }

    /// The learning rate of step `step` (0-based) of a run of `steps` steps.
    public func learningRate(atStep step: Int, of steps: Int) -> Float {
        switch schedule ?? .constant {
        case .constant: return learningRate
        case .cosine:
            let progress = Double(min(max(step, 0), steps)) / Double(max(steps, 1))
            return learningRate * Float((1 + cos(Double.pi * progress)) / 2)
        }
    }
}

/// How the learning rate changes over a training run.
public enum LearningRateSchedule: String, Codable, CaseIterable, Sendable {
    /// `learningRate` at every step.
    case constant
    /// Half a cosine from `learningRate` at the first step down to 0 after the last.
    case cosine
}

/// Adam with optional decoupled weight decay (AdamW), global gradient-norm clipping and an
/// exponential moving average of the weights.
///
/// Moments and averages are kept per parameter name, so a network can be rebuilt and its
/// optimiser state restored from a checkpoint.
public final class Adam {
    /// The settings used by the next step.
    public var configuration: AdamConfiguration
    /// Steps taken so far.
    public private(set) var step: Int
    /// First and second moments per parameter name.
    public private(set) var moments: [String: (first: [Float], second: [Float])]
    /// The moving average of each parameter's values after each update (empty without `averageDecay`).
    public private(set) var averages: [String: [Float]]

    /// Creates an optimiser with no history.
    public init(configuration: AdamConfiguration = AdamConfiguration()) {
        self.configuration = configuration
        step = 0
        moments = [:]
        averages = [:]
    }

    /// Restores an optimiser from saved moments, weight averages and step count.
    public init(configuration: AdamConfiguration, step: Int, moments: [String: (first: [Float], second: [Float])],
                averages: [String: [Float]] = [:]) {
        self.configuration = configuration
        self.step = step
        self.moments = moments
        self.averages = averages
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
            if let decay = c.averageDecay {
                averages[parameter.name] = Self.average(averages[parameter.name], moving: value, decay: decay)
            }
        }
        return norm
    }

    /// `decay * average + (1 - decay) * value`, element by element; the first average is the value itself.
    private static func average(_ average: [Float]?, moving value: [Float], decay: Float) -> [Float] {
        guard var average, average.count == value.count else { return value }
        for i in 0..<value.count { average[i] = decay * average[i] + (1 - decay) * value[i] }
        return average
    }
}
