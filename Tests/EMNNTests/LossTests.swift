import EMNN
import EMVolume
import Foundation
import Testing

@Suite("Losses and optimiser")
struct LossTests {
    let shape = TensorShape(batch: 2, channels: 2, spatial: Coordinate(2, 3, 4))

    func tensors(seed: UInt64) throws -> (logits: Tensor, target: Tensor, weights: Tensor) {
        let logits = try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: seed, in: -3...3))
        let target = try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: seed + 1).map { $0 > 0.6 ? 1 : 0 })
        let weights = try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: seed + 2).map { $0 > -0.5 ? 1 : 0 })
        return (logits, target, weights)
    }

    /// Independent BCE-with-logits, pos_weight and Dice, directly from the definitions.
    func referenceLoss(_ x: [Float], _ t: [Float], _ w: [Float], _ c: LossConfiguration) -> Double {
        var bce = 0.0, count = 0.0
        let voxels = shape.spatial.product
        var inter = [0.0, 0.0], p = [0.0, 0.0], a = [0.0, 0.0]
        for i in x.indices where w[i] > 0 {
            let s = 1 / (1 + exp(-Double(x[i])))
            bce -= Double(c.positiveWeight) * Double(t[i]) * log(s) + (1 - Double(t[i])) * log(1 - s)
            count += 1
            let ch = (i / voxels) % 2
            inter[ch] += s * Double(t[i]); p[ch] += s; a[ch] += Double(t[i])
        }
        let e = Double(c.diceSmoothing)
        let dice = (0..<2).reduce(0.0) { $0 + 1 - (2 * inter[$1] + e) / (p[$1] + a[$1] + e) } / 2
        return Double(c.bceWeight) * bce / count + Double(c.diceWeight) * dice
    }

    @Test("BCE + Dice value and gradient with pos_weight and an ignore mask", arguments: [
        LossConfiguration(bceWeight: 1, diceWeight: 0, positiveWeight: 5),
        LossConfiguration(bceWeight: 0, diceWeight: 1),
        LossConfiguration(bceWeight: 1, diceWeight: 1, positiveWeight: 5, diceSmoothing: 1),
    ])
    func lossAndGradient(_ configuration: LossConfiguration) throws {
        let (logits, target, weights) = try tensors(seed: 10)
        let (value, gradient) = try SegmentationLoss.evaluate(logits: logits.converted(to: .blocked(8)), target: target,
                                                              weights: weights, configuration: configuration)
        var x = logits.toArray()
        let t = target.toArray(), w = weights.toArray()
        #expect(abs(Double(value.total) - referenceLoss(x, t, w, configuration)) < 1e-5)
        let g = gradient.toArray()
        for i in stride(from: 0, to: x.count, by: 5) {
            let h: Float = 1e-2
            x[i] += h
            let plus = referenceLoss(x, t, w, configuration)
            x[i] -= 2 * h
            let minus = referenceLoss(x, t, w, configuration)
            x[i] += h
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(Double(g[i]) - numeric) < 1e-4 + 1e-3 * abs(numeric), "element \(i)")
            if w[i] == 0 { #expect(g[i] == 0) }
        }
    }

    @Test("mismatched target is refused")
    func mismatch() throws {
        let (logits, _, _) = try tensors(seed: 1)
        let target = Tensor(shape: TensorShape(batch: 2, channels: 2, spatial: Coordinate(2, 3, 3)))
        #expect(throws: NNError.self) { try SegmentationLoss.evaluate(logits: logits, target: target, configuration: LossConfiguration()) }
    }

    @Test("Adam and AdamW follow their update rule; clipping bounds the norm")
    func adam() throws {
        let p = Parameter(name: "w", shape: [2, 2], value: [1, -2, 3, 0.5])
        let q = Parameter(name: "b", shape: [2], value: [0.1, 0.2])
        let configuration = AdamConfiguration(learningRate: 0.1, weightDecay: 0.01, gradientClipNorm: 1)
        let adam = Adam(configuration: configuration)
        var (w, b) = (p.value.map(Double.init), q.value.map(Double.init))
        var (mw, vw) = ([Double](repeating: 0, count: 4), [Double](repeating: 0, count: 4))
        var (mb, vb) = ([0.0, 0.0], [0.0, 0.0])
        for round in 1...3 {
            let gw: [Float] = [3 * Float(round), -4 * Float(round), 0, Float(round)], gb: [Float] = [2, 0]
            p.gradient = gw
            q.gradient = gb
            let norm = adam.update([p, q])
            let expectedNorm = (gw + gb).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(Double(norm) - expectedNorm) < 1e-4)
            let scale = min(1, 1 / (expectedNorm + 1e-6))
            func step(_ value: inout [Double], _ m: inout [Double], _ v: inout [Double], _ g: [Float], decay: Bool) {
                for i in value.indices {
                    let gi = Double(g[i]) * scale
                    m[i] = 0.9 * m[i] + 0.1 * gi
                    v[i] = 0.999 * v[i] + 0.001 * gi * gi
                    let mh = m[i] / (1 - pow(0.9, Double(adam.step))), vh = v[i] / (1 - pow(0.999, Double(adam.step)))
                    value[i] = value[i] * (decay ? 1 - 0.1 * 0.01 : 1) - 0.1 * mh / (vh.squareRoot() + 1e-8)
                }
            }
            step(&w, &mw, &vw, gw, decay: true)
            step(&b, &mb, &vb, gb, decay: false)
            #expect(maxDifference(p.value, w.map { Float($0) }) < 1e-5)
            #expect(maxDifference(q.value, b.map { Float($0) }) < 1e-5)
        }
    }

    @Test("the weight average follows a = d a + (1 - d) w, starting at the first updated weights")
    func weightAverage() throws {
        let p = Parameter(name: "w", shape: [3], value: [1, -2, 0.5])
        let adam = Adam(configuration: AdamConfiguration(learningRate: 0.1, averageDecay: 0.9))
        var average: [Double] = []
        for round in 1...4 {
            p.gradient = [Float(round), -1, 0.5 * Float(round)]
            adam.update([p])
            let w = p.value.map(Double.init)
            average = average.isEmpty ? w : zip(average, w).map { 0.9 * $0 + 0.1 * $1 }
            let kept = try #require(adam.averages["w"])
            #expect(maxDifference(kept, average.map { Float($0) }) < 1e-6)
        }
        #expect(maxDifference(p.value, average.map { Float($0) }) > 1e-3, "the average lags the weights")
        #expect(Adam(configuration: AdamConfiguration()).averages.isEmpty)
    }
}
