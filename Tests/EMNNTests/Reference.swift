import EMNN
import EMVolume

/// Independent, naive (loop-by-loop, Double-accumulating) implementations used as references.
enum Reference {
    /// y[n, o, p] = b[o] + sum_{i, t} w[o, i, t] * x[n, i, p * stride + t - low], plain NCDHW arrays.
    static func convolution(_ x: [Float], _ shape: TensorShape, weight: [Float], bias: [Float], outputChannels: Int,
                            kernel: Coordinate, stride: Coordinate = Coordinate(repeating: 1), low: Coordinate,
                            outputSpatial: Coordinate) -> [Float] {
        let ci = shape.channels, s = shape.spatial, o = outputSpatial
        var y = [Float](repeating: 0, count: shape.batch * outputChannels * o.product)
        for n in 0..<shape.batch {
            for oc in 0..<outputChannels {
                for oz in 0..<o.z { for oy in 0..<o.y { for ox in 0..<o.x {
                    var sum = Double(bias[oc])
                    for ic in 0..<ci {
                        for kz in 0..<kernel.z { for ky in 0..<kernel.y { for kx in 0..<kernel.x {
                            let iz = oz * stride.z + kz - low.z, iy = oy * stride.y + ky - low.y, ix = ox * stride.x + kx - low.x
                            guard iz >= 0, iz < s.z, iy >= 0, iy < s.y, ix >= 0, ix < s.x else { continue }
                            let w = weight[(((oc * ci + ic) * kernel.z + kz) * kernel.y + ky) * kernel.x + kx]
                            sum += Double(w) * Double(x[(((n * ci + ic) * s.z + iz) * s.y + iy) * s.x + ix])
                        }}}
                    }
                    y[(((n * outputChannels + oc) * o.z + oz) * o.y + oy) * o.x + ox] = Float(sum)
                }}}
            }
        }
        return y
    }

    /// Transposed convolution with weights [in, out, k] (PyTorch order), no padding.
    static func transposedConvolution(_ x: [Float], _ shape: TensorShape, weight: [Float], bias: [Float], outputChannels: Int,
                                      kernel: Coordinate, stride: Coordinate) -> [Float] {
        let ci = shape.channels, s = shape.spatial
        let o = Coordinate((s.z - 1) * stride.z + kernel.z, (s.y - 1) * stride.y + kernel.y, (s.x - 1) * stride.x + kernel.x)
        var y = [Double](repeating: 0, count: shape.batch * outputChannels * o.product)
        for n in 0..<shape.batch {
            for oc in 0..<outputChannels {
                for i in 0..<o.product { y[(n * outputChannels + oc) * o.product + i] = Double(bias[oc]) }
                for ic in 0..<ci {
                    for z in 0..<s.z { for yy in 0..<s.y { for xx in 0..<s.x {
                        let v = Double(x[(((n * ci + ic) * s.z + z) * s.y + yy) * s.x + xx])
                        for kz in 0..<kernel.z { for ky in 0..<kernel.y { for kx in 0..<kernel.x {
                            let w = Double(weight[(((ic * outputChannels + oc) * kernel.z + kz) * kernel.y + ky) * kernel.x + kx])
                            let p = ((z * stride.z + kz) * o.y + yy * stride.y + ky) * o.x + xx * stride.x + kx
                            y[(n * outputChannels + oc) * o.product + p] += w * v
                        }}}
                    }}}
                }
            }
        }
        return y.map { Float($0) }
    }

    /// Max-pooling with kernel = stride = `factor`.
    static func maxPool(_ x: [Float], _ shape: TensorShape, factor: Coordinate) -> [Float] {
        let s = shape.spatial
        let o = Coordinate(s.z / factor.z, s.y / factor.y, s.x / factor.x)
        var y = [Float](repeating: -.infinity, count: shape.batch * shape.channels * o.product)
        for nc in 0..<(shape.batch * shape.channels) {
            for z in 0..<s.z { for yy in 0..<s.y { for xx in 0..<s.x {
                let p = nc * o.product + ((z / factor.z) * o.y + yy / factor.y) * o.x + xx / factor.x
                y[p] = max(y[p], x[nc * s.product + (z * s.y + yy) * s.x + xx])
            }}}
        }
        return y
    }
}

/// Deterministic pseudo-random floats in `range`.
func randomValues(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

/// Largest absolute difference between two arrays.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
