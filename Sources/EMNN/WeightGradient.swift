import COpenBLAS
import Dispatch
import EMVolume

/// Weight gradients of a convolution through im2col and OpenBLAS `sgemm`, tiled over output
/// lines so each worker's column buffer stays small (cache-resident) and memory stays bounded.
///
/// For a convolution `y[o, p] = sum w[o, i, t] x[i, p * stride + t - padding]` it accumulates
/// `dw[o, i, t] += sum_p dy[o, p] * x[i, p * stride + t - padding]`. Input and output gradient
/// are first brought to plain layout (one pass each), so every column row `(i, t)` is filled
/// with contiguous copies and one sgemm per tile covers all output channels; its result is
/// already in `[o, i, t]` order. Workers (Dispatch) each own a tile buffer and a partial product
/// and call single-threaded OpenBLAS, so no second spinning thread pool competes with oneDNN's
/// OpenMP threads.
final class WeightGradientEngine {
    /// Upper bound on all column buffers together, in floats.
    var columnBudget: Int
    private var workers: [Worker] = []

    /// Scratch memory of one worker thread.
    private final class Worker {
        var columns: UnsafeMutablePointer<Float>
        var capacity: Int
        var product: [Float] = []

        init() {
            capacity = 0
            columns = .allocate(capacity: 1)
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
        let x = input.converted(to: .plain), dy = outputGradient.converted(to: .plain)
        let rows = x.shape.channels * kernel.product
        let outChannels = dy.shape.channels
        let out = dy.shape.spatial
        let lines = out.z * out.y
        let threads = max(1, min(threads, x.shape.batch * lines))
        let tileLines = max(1, min(lines, columnBudget / threads / max(1, rows * out.x)))
        let tilesPerSample = (lines + tileLines - 1) / tileLines
        let tiles = x.shape.batch * tilesPerSample
        while workers.count < threads { workers.append(Worker()) }
        for worker in workers.prefix(threads) {
            worker.reserve(rows * tileLines * out.x)
            worker.product = Array(repeating: 0, count: outChannels * rows)
        }
        let gradientBase = UnsafePointer(dy.storage.pointer)
        let workers = self.workers
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let worker = workers[t]
            worker.product.withUnsafeMutableBufferPointer { product in
                for tile in Swift.stride(from: t, to: tiles, by: threads) {
                    let (n, first) = (tile / tilesPerSample, tile % tilesPerSample * tileLines)
                    let count = min(tileLines, lines - first)
                    fillColumns(input: x, sample: n, firstLine: first, lines: count, out: out, kernel: kernel,
                                stride: stride, paddingLow: paddingLow, columns: worker.columns)
                    let voxels = count * out.x
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outChannels), Int32(rows), Int32(voxels),
                                1, gradientBase + dy.channelOffset(n, 0) + first * out.x, Int32(out.product),
                                worker.columns, Int32(voxels), 1, product.baseAddress, Int32(rows))
                }
            }
        }
        for worker in workers.prefix(threads) {
            worker.product.withUnsafeBufferPointer { c in
                for i in 0..<c.count { gradient[i] += c[i] }
            }
        }
    }

    /// Writes the columns of output lines `firstLine..<firstLine + lines` (line = z * out.y + y)
    /// of sample `n` from a plain input: row `i * taps + tap` holds, for each voxel of the tile,
    /// the input value under that tap (zero outside the volume).
    private func fillColumns(input: Tensor, sample n: Int, firstLine: Int, lines: Int, out: Coordinate,
                             kernel: Coordinate, stride: Coordinate, paddingLow: Coordinate,
                             columns: UnsafeMutablePointer<Float>) {
        let inShape = input.shape.spatial
        var target = columns
        for channel in 0..<input.shape.channels {
            let source = UnsafePointer(input.storage.pointer + input.channelOffset(n, channel))
            for kz in 0..<kernel.z {
                for ky in 0..<kernel.y {
                    for kx in 0..<kernel.x {
                        // Output x range whose input x lies inside the volume.
                        let shift = kx - paddingLow.x
                        let low = min(out.x, max(0, (-shift + stride.x - 1) / stride.x))
                        let high = max(low, min(out.x, (inShape.x - shift + stride.x - 1) / stride.x))
                        for line in firstLine..<(firstLine + lines) {
                            let iz = (line / out.y) * stride.z - paddingLow.z + kz
                            let iy = (line % out.y) * stride.y - paddingLow.y + ky
                            if iz < 0 || iz >= inShape.z || iy < 0 || iy >= inShape.y {
                                target.update(repeating: 0, count: out.x)
                            } else {
                                target.update(repeating: 0, count: low)
                                let from = source + (iz * inShape.y + iy) * inShape.x + low * stride.x + shift
                                if stride.x == 1 {
                                    (target + low).update(from: from, count: high - low)
                                } else {
                                    for ox in 0..<(high - low) { target[low + ox] = from[ox * stride.x] }
                                }
                                (target + high).update(repeating: 0, count: out.x - high)
                            }
                            target += out.x
                        }
                    }
                }
            }
        }
    }
}
