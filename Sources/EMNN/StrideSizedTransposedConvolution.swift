import COpenBLAS
import Dispatch
import EMVolume

/// The forward pass of a transposed convolution whose kernel equals its stride (the U-Net's
/// upsampling), as one `sgemm` per tile and a scatter.
///
/// With kernel = stride and no padding the kernel placements do not overlap: output voxel
/// `p * stride + t` of channel `o` is `bias[o] + sum_i w[i, o, t] x[i, p]`. Viewing the weights
/// `[in, out, kz, ky, kx]` as an `in x (out * taps)` matrix `W`, the product `W^T X` over a tile
/// of input voxels holds every output value of that tile once; the scatter adds the bias and
/// writes each row to its strided output positions. oneDNN offers only a gemm + col2im path for
/// this case on plain tensors (and its reference code on blocked ones), which measured 5-10x
/// slower than this here.
enum StrideSizedTransposedConvolution {
    /// Floats of product rows one worker keeps at a time.
    static let tileBudget = 1 << 19

    /// Whether `core` is a transposed convolution this path computes.
    static func applies(to core: ConvolutionCore) -> Bool {
        core.kind == .transposed && core.kernel == core.stride && core.paddingLow == .zero && core.paddingHigh == .zero
    }

    /// The output of `core` for `input` (plain layout), in plain layout.
    static func forward(_ core: ConvolutionCore, input: Tensor, outputShape: TensorShape) -> Tensor {
        precondition(input.layout == .plain && applies(to: core))
        let kernel = core.kernel, taps = kernel.product
        let (inChannels, outChannels) = (core.inputChannels, core.outputChannels)
        let inSize = input.shape.spatial, outSize = outputShape.spatial
        let lineLength = inSize.x, lines = inSize.z * inSize.y
        let rows = outChannels * taps
        let tileLines = max(1, min(lines, tileBudget / max(1, rows * lineLength)))
        let tilesPerSample = (lines + tileLines - 1) / tileLines
        let tiles = input.shape.batch * tilesPerSample
        let threads = max(1, min(core.context.threadCount ?? ThreadSettings.defaultThreads, tiles))
        var weights = core.weight.effectiveValue
        let bias = core.bias.value
        let relu = core.fusedReLU
        let output = Tensor(shape: outputShape, layout: .plain, zeroed: false)
        let x = input.storage.pointer
        let y = output.storage.pointer
        let inVoxels = inSize.product, outVoxels = outSize.product
        weights.withUnsafeMutableBufferPointer { w in
            let w = w.baseAddress!
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                let product = UnsafeMutablePointer<Float>.allocate(capacity: rows * tileLines * lineLength)
                defer { product.deallocate() }
                for tile in Swift.stride(from: worker, to: tiles, by: threads) {
                    let n = tile / tilesPerSample
                    let firstLine = (tile % tilesPerSample) * tileLines
                    let lineCount = min(tileLines, lines - firstLine)
                    let columns = lineCount * lineLength
                    // product[(o * taps + t), column] = sum_i w[i, o * taps + t] * x[n, i, column].
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(inChannels),
                                1, w, Int32(rows), x + n * inChannels * inVoxels + firstLine * lineLength, Int32(inVoxels),
                                0, product, Int32(columns))
                    scatter(product, columns: columns, firstLine: firstLine, lineCount: lineCount, lineLength: lineLength,
                            inSize: inSize, outSize: outSize, kernel: kernel, outChannels: outChannels, bias: bias, relu: relu,
                            into: y + n * outChannels * outVoxels)
                }
            }
        }
        return output
    }

    /// Writes product rows `(o, t)` of a tile to output voxels `p * kernel + t` of channel `o`.
    private static func scatter(_ product: UnsafeMutablePointer<Float>, columns: Int, firstLine: Int, lineCount: Int,
                                lineLength: Int, inSize: Coordinate, outSize: Coordinate, kernel: Coordinate, outChannels: Int,
                                bias: [Float], relu: Bool, into output: UnsafeMutablePointer<Float>) {
        let outPlane = outSize.y * outSize.x, outVoxels = outSize.product
        var row = 0
        for o in 0..<outChannels {
            let b = bias[o]
            let channel = output + o * outVoxels
            for tz in 0..<kernel.z { for ty in 0..<kernel.y { for tx in 0..<kernel.x {
                let source = product + row * columns
                row += 1
                for l in 0..<lineCount {
                    let line = firstLine + l
                    let (z, yy) = (line / inSize.y, line % inSize.y)
                    let target = channel + (z * kernel.z + tz) * outPlane + (yy * kernel.y + ty) * outSize.x + tx
                    let values = source + l * lineLength
                    if relu {
                        for i in 0..<lineLength { target[i * kernel.x] = max(values[i] + b, 0) }
                    } else {
                        for i in 0..<lineLength { target[i * kernel.x] = values[i] + b }
                    }
                }
            }}}
        }
    }
}
