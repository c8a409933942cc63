import Foundation

/// Weights of the segmentation loss for rare foreground: binary cross-entropy on logits with a
/// positive-class weight, plus soft Dice on the sigmoid probabilities.
public struct LossConfiguration: Codable, Equatable, Sendable {
    /// Weight of the BCE term.
    public var bceWeight: Float
    /// Weight of the Dice term.
    public var diceWeight: Float
    /// Multiplies the BCE term of foreground voxels (PyTorch's `pos_weight`).
    public var positiveWeight: Float
    /// Added to the Dice numerator and denominator (avoids 0/0 on empty crops).
    public var diceSmoothing: Float

    /// Creates a loss configuration; the defaults are BCE + Dice with no class weighting.
    public init(bceWeight: Float = 1, diceWeight: Float = 1, positiveWeight: Float = 1, diceSmoothing: Float = 1) {
        self.bceWeight = bceWeight
        self.diceWeight = diceWeight
        self.positiveWeight = positiveWeight
        self.diceSmoothing = diceSmoothing
    }
}

/// The value of a loss evaluation and its parts.
public struct LossValue: Equatable, Sendable {
    /// `bceWeight * bce + diceWeight * dice`.
    public var total: Float
    /// Mean weighted binary cross-entropy.
    public var bce: Float
    /// Mean over channels of `1 - soft Dice`.
    public var dice: Float
}

/// BCE-with-logits + soft Dice over voxels, with an optional per-voxel weight (0 ignores a voxel).
///
/// BCE is `-(pw * t * log s(x) + (1 - t) * log(1 - s(x)))`, averaged with the voxel weights.
/// Dice is computed per output channel over the whole batch: `1 - (2 sum wpt + e) / (sum wp + sum wt + e)`.
public enum SegmentationLoss {
    /// The loss and its gradient with respect to `logits` (plain layout).
    ///
    /// - Parameters:
    ///   - logits: network output, any layout.
    ///   - target: labels in [0, 1] with the logits' shape (plain layout).
    ///   - weights: optional per-voxel weights with the same shape (plain); 0 excludes a voxel.
    public static func evaluate(logits: Tensor, target: Tensor, weights: Tensor? = nil,
                                configuration: LossConfiguration) throws -> (value: LossValue, gradient: Tensor) {
        guard target.shape == logits.shape else {
            throw NNError.shapeMismatch("loss target \(target.shape) does not match the network output \(logits.shape)")
        }
        if let weights, weights.shape != logits.shape {
            throw NNError.shapeMismatch("loss weight mask \(weights.shape) does not match the network output \(logits.shape)")
        }
        let x = logits.converted(to: .plain), t = target.converted(to: .plain), w = weights?.converted(to: .plain)
        let channels = logits.shape.channels, voxels = logits.shape.spatial.product, count = logits.shape.elementCount
        let xp = x.storage.pointer, tp = t.storage.pointer, wp = w?.storage.pointer
        let pw = Double(configuration.positiveWeight), smoothing = Double(configuration.diceSmoothing)
        // Channel of element i in NCDHW order.
        func channel(_ i: Int) -> Int { (i / voxels) % channels }
        var bceSum = 0.0, weightSum = 0.0
        var intersection = [Double](repeating: 0, count: channels), predicted = intersection, actual = intersection
        for i in 0..<count {
            let weight = Double(wp?[i] ?? 1)
            if weight == 0 { continue }
            let logit = Double(xp[i]), label = Double(tp[i]), p = Double(logistic(xp[i]))
            bceSum += weight * (pw * label * softplus(-logit) + (1 - label) * softplus(logit))
            weightSum += weight
            let c = channel(i)
            intersection[c] += weight * p * label
            predicted[c] += weight * p
            actual[c] += weight * label
        }
        let bce = weightSum > 0 ? bceSum / weightSum : 0
        var dice = 0.0
        for c in 0..<channels {
            dice += 1 - (2 * intersection[c] + smoothing) / (predicted[c] + actual[c] + smoothing)
        }
        dice /= Double(channels)
        var gradient = Tensor(shape: logits.shape)
        let bceScale = weightSum > 0 ? Double(configuration.bceWeight) / weightSum : 0
        let diceScale = Double(configuration.diceWeight) / Double(channels)
        gradient.withUnsafeMutableBufferPointer { gp in
            for i in 0..<count {
                let weight = Double(wp?[i] ?? 1)
                if weight == 0 { continue }
                let label = Double(tp[i]), p = Double(logistic(xp[i])), c = channel(i)
                let dBce = weight * (pw * label * (p - 1) + (1 - label) * p)
                let denominator = predicted[c] + actual[c] + smoothing
                let dDiceDp = -(2 * weight * label * denominator - (2 * intersection[c] + smoothing) * weight) / (denominator * denominator)
                gp[i] = Float(bceScale * dBce + diceScale * dDiceDp * p * (1 - p))
            }
        }
        let value = LossValue(total: Float(Double(configuration.bceWeight) * bce + Double(configuration.diceWeight) * dice),
                              bce: Float(bce), dice: Float(dice))
        return (value, gradient)
    }
}

/// `log(1 + exp(x))` without overflow.
@inline(__always)
func softplus(_ x: Double) -> Double {
    x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
}
