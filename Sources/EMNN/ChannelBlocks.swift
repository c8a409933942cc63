/// Walks a tensor's storage one channel block at a time: `body(sample, firstChannel, lanes, base)`
/// where element (voxel v, lane l) of the block sits at `base[v * block + l]` and `lanes` counts
/// the block's real (unpadded) channels. Every layout is covered: plain has one lane per block,
/// channels-last one block per sample.
func forEachChannelBlock(_ tensor: Tensor, _ body: (_ sample: Int, _ firstChannel: Int, _ lanes: Int,
                                                     _ base: UnsafeMutablePointer<Float>) -> Void) {
    let b = tensor.block, blocks = tensor.paddedChannels / b, s = tensor.spatialCount
    for n in 0..<tensor.shape.batch {
        for block in 0..<blocks {
            body(n, block * b, min(b, tensor.shape.channels - block * b), tensor.storage.pointer + (n * blocks + block) * s * b)
        }
    }
}

/// Applies `transform` to every real (unpadded) element of `tensor`, keeping padded lanes zero.
func mapRealElements(_ tensor: inout Tensor, _ transform: (Float) -> Float) {
    tensor.makeUnique()
    let b = tensor.block, s = tensor.spatialCount
    forEachChannelBlock(tensor) { _, _, lanes, base in
        if lanes == b {
            for i in 0..<(s * b) { base[i] = transform(base[i]) }
        } else {
            for v in 0..<s { for l in 0..<lanes { base[v * b + l] = transform(base[v * b + l]) } }
        }
    }
}

/// Per-sample, per-channel sums over all voxels of the two terms `terms(x, y)` returns, where `x`
/// is an element of `tensor` and `y` the element of `other` at the same place (`x` again without
/// `other`); indexed `n * channels + c`. `other`, when given, must have `tensor`'s shape and layout.
///
/// One pass over memory in storage order: every lane of a voxel is visited together, partial
/// sums run in Float over short runs of voxels and are carried in Double between runs.
@inline(__always)
func channelSums(_ tensor: Tensor, other: Tensor? = nil,
                 _ terms: (Float, Float) -> (Float, Float)) -> (first: [Double], second: [Double]) {
    let channels = tensor.shape.channels, b = tensor.block, s = tensor.spatialCount
    precondition(other == nil || (other!.shape == tensor.shape && other!.layout == tensor.layout))
    var first = [Double](repeating: 0, count: tensor.shape.batch * channels), second = first
    let offset = other.map { $0.storage.pointer - tensor.storage.pointer } ?? 0
    let run = 256
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * b) { partial in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * b) { totals in
            forEachChannelBlock(tensor) { n, firstChannel, lanes, base in
                totals.initialize(repeating: 0)
                var start = 0
                while start < s {
                    let end = min(s, start + run)
                    partial.initialize(repeating: 0)
                    for v in start..<end {
                        let x = base + v * b, y = x + offset
                        for l in 0..<b {
                            let (p, q) = terms(x[l], y[l])
                            partial[l] += p
                            partial[b + l] += q
                        }
                    }
                    for l in 0..<(2 * b) { totals[l] += Double(partial[l]) }
                    start = end
                }
                for l in 0..<lanes {
                    first[n * channels + firstChannel + l] = totals[l]
                    second[n * channels + firstChannel + l] = totals[b + l]
                }
            }
        }
    }
    return (first, second)
}

/// Sets `y = scale[n, c] * x + shift[n, c]` over real elements (arrays indexed `n * channels + c`),
/// optionally adding `other * otherScale[n, c]` (for gradients). Padded lanes stay zero.
func affinePerChannel(_ tensor: inout Tensor, scale: [Double], shift: [Double], other: Tensor? = nil, otherScale: [Double] = []) {
    tensor.makeUnique()
    let channels = tensor.shape.channels, b = tensor.block, s = tensor.spatialCount
    let offset = other.map { $0.storage.pointer - tensor.storage.pointer } ?? 0
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * b) { factors in
        forEachChannelBlock(tensor) { n, firstChannel, lanes, base in
            // Per lane: a, c and d of a * x + d * other + c; zero on padded lanes.
            factors.initialize(repeating: 0)
            for l in 0..<lanes {
                let i = n * channels + firstChannel + l
                factors[l] = Float(scale[i])
                factors[b + l] = Float(shift[i])
                if other != nil { factors[2 * b + l] = Float(otherScale[i]) }
            }
            let (a, c, d) = (factors.baseAddress!, factors.baseAddress! + b, factors.baseAddress! + 2 * b)
            if other == nil {
                for v in 0..<s {
                    let x = base + v * b
                    for l in 0..<b { x[l] = a[l] * x[l] + c[l] }
                }
            } else {
                let second = base + offset
                for v in 0..<s {
                    let x = base + v * b, y = second + v * b
                    for l in 0..<b { x[l] = a[l] * x[l] + d[l] * y[l] + c[l] }
                }
            }
        }
    }
}
