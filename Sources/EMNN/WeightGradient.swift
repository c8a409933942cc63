import COpenBLAS
import Dispatch
import EMVolume

/// Weight gradients of a convolution through im2col and OpenBLAS `sgemm`, tiled over output
/// depth so the column buffer stays within a memory budget.
///
/// For a convolution `y[o, p] = sum w[o, i, t] x[i, p * stride + t - padding]` it accumulates
/// `dw[o, i, t] += sum_p dy[o, p] * x[i, p * stride + t - padding]`. The column buffer holds, for
/// each output voxel `p`, the input values under every tap, ordered (channel block, tap, lane)
/// so that blocked inputs are read eight or sixteen lanes at a time; the result is permuted back
/// to `[o, i, t]` order at the end.
final class WeightGradientEngine {
    /// Upper bound on the column buffer, in floats.
    var columnBudget: Int
    private var columns: UnsafeMutablePointer<Float>?
    private var columnCapacity = 0
    private var product: [Float] = []

    /// Creates an engine whose column buffer stays below `budgetBytes`.
    init(budgetBytes: Int = 16 << 20) {
        columnBudget = max(1, budgetBytes / 4)
    }

    deinit { columns?.deallocate() }

    private func columnBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > columnCapacity {
            columns?.deallocate()
            columns = UnsafeMutablePointer<Float>.allocate(capacity: count)
            columnCapacity = count
        }
        return columns!
    }

    /// Adds the weight gradient to `gradient` (`[outputChannels, inputChannels, kz, ky, kx]`).
    ///
    /// - Parameters:
    ///   - input: the convolution's input, any layout.
    ///   - outputGradient: the gradient of its output, in plain layout.
    ///   - threads: threads for im2col (OpenBLAS uses its own setting).
    func accumulate(input: Tensor, outputGradient: Tensor, kernel: Coordinate, stride: Coordinate,
                    paddingLow: Coordinate, into gradient: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(outputGradient.layout == .plain, "output gradient must be plain")
        let taps = kernel.product
        let lanes = input.block
        let rows = input.paddedChannels * taps
        let outChannels = outputGradient.shape.channels
        let out = outputGradient.shape.spatial
        let plane = out.y * out.x
        let tileDepth = max(1, min(out.z, columnBudget / max(1, rows * plane)))
        let col = columnBuffer(rows * tileDepth * plane)
        if product.count != outChannels * rows { product = Array(repeating: 0, count: outChannels * rows) }
        product.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        let outputBase = outputGradient.storage.pointer
        for n in 0..<input.shape.batch {
            for z0 in Swift.stride(from: 0, to: out.z, by: tileDepth) {
                let depth = min(tileDepth, out.z - z0)
                fillColumns(input: input, sample: n, firstDepth: z0, depth: depth, out: out, kernel: kernel,
                            stride: stride, paddingLow: paddingLow, columns: col, rows: rows, threads: threads)
                let offset: Int = outputGradient.channelOffset(n, 0) + z0 * plane
                let a = UnsafePointer(outputBase + offset)
                product.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(rows), Int32(depth * plane),
                                1, a, Int32(out.product), col, Int32(rows), 1, c.baseAddress, Int32(rows))
                }
            }
        }
        // Column r = (block, tap, lane) -> weight [o, block * lanes + lane, tap].
        let inChannels = input.shape.channels
        product.withUnsafeBufferPointer { c in
            for o in 0..<outChannels {
                for i in 0..<inChannels {
                    let (block, lane) = (i / lanes, i % lanes)
                    for t in 0..<taps {
                        gradient[(o * inChannels + i) * taps + t] += c[o * rows + (block * taps + t) * lanes + lane]
                    }
                }
            }
        }
    }

    /// Writes the column rows for output depths `firstDepth..<firstDepth + depth` of sample `n`.
    private func fillColumns(input: Tensor, sample n: Int, firstDepth: Int, depth: Int, out: Coordinate,
                             kernel: Coordinate, stride: Coordinate, paddingLow: Coordinate,
                             columns: UnsafeMutablePointer<Float>, rows: Int, threads: Int) {
        let lanes = input.block
        let blocks = input.paddedChannels / lanes
        let inShape = input.shape.spatial
        let source = input.storage.pointer + input.channelOffset(n, 0)
        let blockStride = inShape.product * lanes
        let taps = kernel.product
        let slices = depth * out.y
        let chunks = max(1, min(threads, slices))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for slice in (slices * chunk / chunks)..<(slices * (chunk + 1) / chunks) {
                let (dz, oy) = (slice / out.y, slice % out.y)
                var row = columns + (dz * out.y + oy) * out.x * rows
                for ox in 0..<out.x {
                    let origin = Coordinate(z: (firstDepth + dz) * stride.z - paddingLow.z,
                                            y: oy * stride.y - paddingLow.y, x: ox * stride.x - paddingLow.x)
                    for block in 0..<blocks {
                        var t = 0
                        for kz in 0..<kernel.z {
                            let iz = origin.z + kz
                            for ky in 0..<kernel.y {
                                let iy = origin.y + ky
                                for kx in 0..<kernel.x {
                                    let ix = origin.x + kx
                                    let target = row + (block * taps + t) * lanes
                                    if iz >= 0 && iz < inShape.z && iy >= 0 && iy < inShape.y && ix >= 0 && ix < inShape.x {
                                                        let voxel: Int = (iz * inShape.y + iy) * inShape.x + ix
                                        target.update(from: source + block * blockStride + voxel * lanes, count: lanes)
                                    } else {
                                        target.update(repeating: 0, count: lanes)
                                    }
                                    t += 1
                                }
                            }
                        }
                    }
                    row += rows
                }
            }
        }
    }
}

/// Per-channel sums of a tensor over batch and space (the bias gradient of a convolution).
func channelSums(_ tensor: Tensor, into sums: inout [Float]) {
    let b = tensor.block, blocks = tensor.paddedChannels / b, s = tensor.spatialCount
    var accumulators = [Double](repeating: 0, count: tensor.paddedChannels)
    let p = tensor.storage.pointer
    accumulators.withUnsafeMutableBufferPointer { acc in
        for n in 0..<tensor.shape.batch {
            for block in 0..<blocks {
                let base = p + (n * blocks + block) * s * b
                for v in 0..<s {
                    for lane in 0..<b { acc[block * b + lane] += Double(base[v * b + lane]) }
                }
            }
        }
    }
    for c in 0..<tensor.shape.channels { sums[c] += Float(accumulators[c]) }
}
