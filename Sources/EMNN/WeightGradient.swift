import COpenBLAS
import Dispatch
import EMVolume

/// Weight gradients of a convolution through im2col and OpenBLAS `sgemm`, tiled over output
/// rows so each worker's column buffer stays small (cache-resident) and memory stays bounded.
///
/// For a convolution `y[o, p] = sum w[o, i, t] x[i, p * stride + t - padding]` it accumulates
/// `dw[o, i, t] += sum_p dy[o, p] * x[i, p * stride + t - padding]`. The column buffer holds, for
/// each output voxel `p`, the input values under every tap, ordered (channel block, tap, lane)
/// so that blocked inputs are read eight or sixteen lanes at a time; the result is permuted back
/// to `[o, i, t]` order at the end. Workers (Dispatch) each own a tile buffer and a partial
/// product and call single-threaded OpenBLAS, so no second spinning thread pool competes with
/// oneDNN's OpenMP threads.
final class WeightGradientEngine {
    /// Upper bound on all column buffers together, in floats.
    var columnBudget: Int
    private var workers: [Worker] = []

    /// Scratch memory of one worker thread.
    private final class Worker {
        var columns: UnsafeMutablePointer<Float>
        var capacity: Int
        var product: [Float] = []

        init(capacity: Int) {
            self.capacity = capacity
            columns = .allocate(capacity: capacity)
        }

        func reserve(_ count: Int) {
            guard count > capacity else { return }
            columns.deallocate()
            columns = .allocate(capacity: count)
            capacity = count
        }

        deinit { columns.deallocate() }
    }

    /// Creates an engine whose column buffers stay below `budgetBytes` in total.
    init(budgetBytes: Int = 4 << 20) {
        columnBudget = max(1, budgetBytes / 4)
        ThreadSettings.useSingleThreadedBLAS()
    }

    /// Adds the weight gradient to `gradient` (`[outputChannels, inputChannels, kz, ky, kx]`).
    ///
    /// - Parameters:
    ///   - input: the convolution's input, any layout.
    ///   - outputGradient: the gradient of its output, any layout.
    ///   - threads: worker threads.
    func accumulate(input: Tensor, outputGradient: Tensor, kernel: Coordinate, stride: Coordinate,
                    paddingLow: Coordinate, into gradient: UnsafeMutablePointer<Float>, threads: Int) {
        let taps = kernel.product
        let lanes = input.block
        let rows = input.paddedChannels * taps
        let outChannels = outputGradient.shape.channels
        let out = outputGradient.shape.spatial
        let lines = out.z * out.y
        let threads = max(1, min(threads, input.shape.batch * lines))
        let tileLines = max(1, min(lines, columnBudget / threads / max(1, rows * out.x)))
        let tilesPerSample = (lines + tileLines - 1) / tileLines
        let tiles = input.shape.batch * tilesPerSample
        while workers.count < threads { workers.append(Worker(capacity: 0)) }
        for worker in workers.prefix(threads) {
            worker.reserve(rows * tileLines * out.x)
            worker.product = Array(repeating: 0, count: outputGradient.paddedChannels * rows)
        }
        let outputBase = UnsafePointer(outputGradient.storage.pointer)
        let workers = self.workers
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let worker = workers[t]
            worker.product.withUnsafeMutableBufferPointer { product in
                for tile in Swift.stride(from: t, to: tiles, by: threads) {
                    let (n, first) = (tile / tilesPerSample, tile % tilesPerSample * tileLines)
                    let count = min(tileLines, lines - first)
                    fillColumns(input: input, sample: n, firstLine: first, lines: count, out: out, kernel: kernel,
                                stride: stride, paddingLow: paddingLow, columns: worker.columns, rows: rows)
                    multiply(outputGradient, base: outputBase, sample: n, firstVoxel: first * out.x, voxels: count * out.x,
                             columns: worker.columns, rows: rows, into: product.baseAddress!)
                }
            }
        }
        // Column r = (block, tap, lane) -> weight [o, block * lanes + lane, tap].
        let inChannels = input.shape.channels
        for worker in workers.prefix(threads) {
            worker.product.withUnsafeBufferPointer { c in
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
    }

    /// `product[o, r] += sum_p dy[n, o, p] * columns[p, r]` over the tile's voxels. A plain
    /// gradient is one row-major matrix (rows = channels); a blocked one is, per channel block, a
    /// transposed `[voxels, lanes]` matrix, so no layout conversion is needed.
    private func multiply(_ gradient: Tensor, base: UnsafePointer<Float>, sample n: Int, firstVoxel: Int, voxels: Int,
                          columns: UnsafePointer<Float>, rows: Int, into product: UnsafeMutablePointer<Float>) {
        let b = gradient.block, blocks = gradient.paddedChannels / b, spatial = gradient.spatialCount
        if b == 1 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(gradient.shape.channels), Int32(rows), Int32(voxels),
                        1, base + gradient.channelOffset(n, 0) + firstVoxel, Int32(spatial), columns, Int32(rows), 1,
                        product, Int32(rows))
            return
        }
        for block in 0..<blocks {
            let offset: Int = ((n * blocks + block) * spatial + firstVoxel) * b
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(b), Int32(rows), Int32(voxels),
                        1, base + offset, Int32(b), columns, Int32(rows), 1, product + block * b * rows, Int32(rows))
        }
    }

    /// Writes the column rows of output lines `firstLine..<firstLine + lines` (line = z * out.y + y) of sample `n`.
    private func fillColumns(input: Tensor, sample n: Int, firstLine: Int, lines: Int, out: Coordinate,
                             kernel: Coordinate, stride: Coordinate, paddingLow: Coordinate,
                             columns: UnsafeMutablePointer<Float>, rows: Int) {
        let lanes = input.block
        let blocks = input.paddedChannels / lanes
        let inShape = input.shape.spatial
        let source = UnsafePointer(input.storage.pointer + input.channelOffset(n, 0))
        let blockStride = inShape.product * lanes
        let taps = kernel.product
        var row = columns
        for line in firstLine..<(firstLine + lines) {
            let (oz, oy) = (line / out.y, line % out.y)
            let iz0 = oz * stride.z - paddingLow.z, iy0 = oy * stride.y - paddingLow.y
            for ox in 0..<out.x {
                let ix0 = ox * stride.x - paddingLow.x
                for block in 0..<blocks {
                    let blockSource = source + block * blockStride
                    var target = row + block * taps * lanes
                    for kz in 0..<kernel.z {
                        let iz = iz0 + kz
                        for ky in 0..<kernel.y {
                            let iy = iy0 + ky
                            let rowInside = iz >= 0 && iz < inShape.z && iy >= 0 && iy < inShape.y
                            let lineStart: Int = (iz * inShape.y + iy) * inShape.x
                            for kx in 0..<kernel.x {
                                let ix = ix0 + kx
                                if rowInside && ix >= 0 && ix < inShape.x {
                                    copyLanes(from: blockSource + (lineStart + ix) * lanes, to: target, count: lanes)
                                } else {
                                    target.update(repeating: 0, count: lanes)
                                }
                                target += lanes
                            }
                        }
                    }
                }
                row += rows
            }
        }
    }
}

/// Copies `count` floats, with single vector moves for the usual 8- and 16-lane blocks.
@inline(__always)
private func copyLanes(from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
    switch count {
    case 8:
        UnsafeMutableRawPointer(target).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
    case 16:
        UnsafeMutableRawPointer(target).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
    case 1:
        target.pointee = source.pointee
    default:
        target.update(from: source, count: count)
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
