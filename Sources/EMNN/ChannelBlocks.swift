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

/// Per-sample, per-channel sums of `f(x)` and of `g(x, y)` over all voxels, indexed `n * channels + c`;
/// `other`, when given, must have `tensor`'s shape and layout.
func channelSums(_ tensor: Tensor, other: Tensor? = nil, _ f: (Float, Float) -> Double) -> [Double] {
    let channels = tensor.shape.channels, b = tensor.block, s = tensor.spatialCount
    precondition(other == nil || (other!.shape == tensor.shape && other!.layout == tensor.layout))
    var sums = [Double](repeating: 0, count: tensor.shape.batch * channels)
    let offset = other.map { $0.storage.pointer - tensor.storage.pointer } ?? 0
    forEachChannelBlock(tensor) { n, first, lanes, base in
        let second = base + offset
        for l in 0..<lanes {
            var acc = 0.0
            for v in 0..<s { acc += f(base[v * b + l], second[v * b + l]) }
            sums[n * channels + first + l] = acc
        }
    }
    return sums
}

/// Sets `y = scale[n, c] * x + shift[n, c]` over real elements (arrays indexed `n * channels + c`),
/// optionally adding `other * otherScale[n, c]` (for gradients).
func affinePerChannel(_ tensor: inout Tensor, scale: [Double], shift: [Double], other: Tensor? = nil, otherScale: [Double] = []) {
    tensor.makeUnique()
    let channels = tensor.shape.channels, b = tensor.block, s = tensor.spatialCount
    let offset = other.map { $0.storage.pointer - tensor.storage.pointer } ?? 0
    forEachChannelBlock(tensor) { n, first, lanes, base in
        let second = base + offset
        for l in 0..<lanes {
            let i = n * channels + first + l
            let (a, c) = (Float(scale[i]), Float(shift[i]))
            if other == nil {
                for v in 0..<s { base[v * b + l] = a * base[v * b + l] + c }
            } else {
                let d = Float(otherScale[i])
                for v in 0..<s { base[v * b + l] = a * base[v * b + l] + d * second[v * b + l] + c }
            }
        }
    }
}
