/// A trainable array of weights with its gradient and an optional connectivity mask.
///
/// Weights are stored in PyTorch's order (convolution `[out, in, kz, ky, kx]`, transposed
/// convolution `[in, out, kz, ky, kx]`, vectors `[n]`). A mask has the shape of the first two
/// dimensions; slab `(i, j)` of the weights (all kernel taps) is multiplied by `mask[i, j]` in the
/// forward pass, and its gradient is zero wherever the mask is zero.
public final class Parameter {
    /// Dotted name, e.g. `encoder.0.conv.1.weight`; used as the checkpoint key.
    public let name: String
    /// Dimensions of `value`.
    public let shape: [Int]
    /// The weights.
    public var value: [Float] { didSet { version &+= 1 } }
    /// Accumulated gradient of the loss with respect to `value` (same shape).
    public var gradient: [Float]
    /// Connectivity mask of shape `shape[0..<2]` (0 = pruned, 1 = kept), or `nil` for all kept.
    public private(set) var mask: [Float]?
    /// Changes whenever `value` or `mask` changes; layers re-pack their weights when it moves.
    public private(set) var version = 0

    /// Creates a parameter holding `value`.
    public init(name: String, shape: [Int], value: [Float]) {
        precondition(shape.reduce(1, *) == value.count, "parameter \(name): \(value.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = Array(repeating: 0, count: value.count)
    }

    /// Elements per mask slab (the product of the dimensions after the first two).
    public var slabSize: Int { shape.count > 2 ? shape[2...].reduce(1, *) : 1 }

    /// Installs (or with `nil` removes) a connectivity mask of `shape[0] * shape[1]` entries.
    public func setMask(_ mask: [Float]?) throws {
        if let mask {
            guard shape.count >= 2, mask.count == shape[0] * shape[1] else {
                throw NNError.shapeMismatch("mask for \(name) needs \(shape.count >= 2 ? shape[0] * shape[1] : 0) entries (shape \(Array(shape.prefix(2)))), got \(mask.count)")
            }
        }
        self.mask = mask
        version &+= 1
    }

    /// The weights the forward pass uses: `value` with masked slabs set to zero.
    public var effectiveValue: [Float] {
        guard let mask else { return value }
        var result = value
        let k = slabSize
        for (slab, m) in mask.enumerated() where m != 1 {
            for i in slab * k..<(slab + 1) * k { result[i] *= m }
        }
        return result
    }

    /// Multiplies the gradient by the mask, so pruned slabs get exactly zero gradient.
    func maskGradient() {
        guard let mask else { return }
        let k = slabSize
        for (slab, m) in mask.enumerated() where m != 1 {
            for i in slab * k..<(slab + 1) * k { gradient[i] *= m }
        }
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
