/// Group normalisation: per sample, channels are split into `groups`; each group is normalised
/// to zero mean and unit variance over its channels and voxels, then scaled by `gamma[c]` and
/// shifted by `beta[c]`. Works in any layout; statistics accumulate in Double.
public final class GroupNormalization: Layer {
    /// Number of channel groups.
    public let groups: Int
    /// Channel count.
    public let channels: Int
    /// Added to the variance.
    public let epsilon: Double
    /// Scale per channel (starts at 1).
    public let gamma: Parameter
    /// Shift per channel (starts at 0).
    public let beta: Parameter
    private var saved: (input: Tensor, mean: [Double], inverseDeviation: [Double])?

    /// Creates a group normalisation; `channels` must be divisible by `groups`.
    public init(name: String, channels: Int, groups: Int, epsilon: Double = 1e-5) throws {
        guard channels > 0, groups > 0, channels % groups == 0 else {
            throw NNError.invalidConfiguration("\(name): group normalisation needs channels (\(channels)) divisible by groups (\(groups)); "
                + "use a group count among \((1...max(1, channels)).filter { channels % $0 == 0 })")
        }
        self.groups = groups
        self.channels = channels
        self.epsilon = epsilon
        gamma = Parameter(name: "\(name).weight", shape: [channels], value: Array(repeating: 1, count: channels))
        beta = Parameter(name: "\(name).bias", shape: [channels], value: Array(repeating: 0, count: channels))
    }

    /// Gamma and beta.
    public var parameters: [Parameter] { [gamma, beta] }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape {
        guard shape.channels == channels else {
            throw NNError.shapeMismatch("group normalisation over \(channels) channels got an input of shape \(shape)")
        }
        return shape
    }

    /// Per (sample, group) sums of per-channel values, indexed `n * groups + g`.
    private func groupSums(_ perChannel: [Double], batch: Int, weights: [Float]? = nil) -> [Double] {
        let size = channels / groups
        var result = [Double](repeating: 0, count: batch * groups)
        for n in 0..<batch {
            for c in 0..<channels { result[n * groups + c / size] += perChannel[n * channels + c] * Double(weights?[c] ?? 1) }
        }
        return result
    }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let shape = try outputShape(for: input.shape)
        let count = Double(channels / groups * shape.spatial.product)
        let moments = channelSums(input) { x, _ in (x, x * x) }
        let sums = groupSums(moments.first, batch: shape.batch), squares = groupSums(moments.second, batch: shape.batch)
        let mean = sums.map { $0 / count }
        let inverse = zip(squares, mean).map { 1 / (max(0, $0 / count - $1 * $1) + epsilon).squareRoot() }
        var scale = [Double](repeating: 0, count: shape.batch * channels), shift = scale
        for n in 0..<shape.batch {
            for c in 0..<channels {
                let g = n * groups + c / (channels / groups), i = n * channels + c
                scale[i] = inverse[g] * Double(gamma.value[c])
                shift[i] = Double(beta.value[c]) - mean[g] * scale[i]
            }
        }
        var output = input
        affinePerChannel(&output, scale: scale, shift: shift)
        saved = training ? (input, mean, inverse) : nil
        return output
    }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        guard let (input, mean, inverse) = saved else {
            throw NNError.shapeMismatch("group normalisation: backward called without a training forward pass")
        }
        _ = try expectGradient(outputGradient, matches: input.shape, layer: "group normalisation")
        let dy = outputGradient.converted(to: input.layout)
        let batch = input.shape.batch, size = channels / groups
        let count = Double(size * input.shape.spatial.product)
        let (sumDy, sumDyX) = channelSums(dy, other: input) { g, x in (g, g * x) }
        // dxhat = dy * gamma; dx = r * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
        var meanDxhat = [Double](repeating: 0, count: batch * groups), meanDxhatXhat = meanDxhat
        for n in 0..<batch {
            for c in 0..<channels {
                let i = n * channels + c, g = n * groups + c / size
                let sumDyXhat = inverse[g] * (sumDyX[i] - mean[g] * sumDy[i])
                gamma.gradient[c] += Float(sumDyXhat)
                beta.gradient[c] += Float(sumDy[i])
                meanDxhat[g] += Double(gamma.value[c]) * sumDy[i] / count
                meanDxhatXhat[g] += Double(gamma.value[c]) * sumDyXhat / count
            }
        }
        var dyScale = [Double](repeating: 0, count: batch * channels), xScale = dyScale, shift = dyScale
        for n in 0..<batch {
            for c in 0..<channels {
                let i = n * channels + c, g = n * groups + c / size, r = inverse[g]
                dyScale[i] = r * Double(gamma.value[c])
                xScale[i] = -r * r * meanDxhatXhat[g]
                shift[i] = -r * meanDxhat[g] + r * r * meanDxhatXhat[g] * mean[g]
            }
        }
        var result = dy
        affinePerChannel(&result, scale: dyScale, shift: shift, other: input, otherScale: xScale)
        return result
    }
}
