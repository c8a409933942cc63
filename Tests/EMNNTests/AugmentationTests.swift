import EMNN
import EMVolume
import Testing

@Suite("Training augmentation and sampling")
struct AugmentationTests {
    /// A volume whose voxel (z, y, x) holds a value that encodes its position.
    func positional(_ s: Coordinate) -> Volume<Float> {
        var v = Volume<Float>(shape: s)
        for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x { v[z, y, x] = Float(z * 10_000 + y * 100 + x) } } }
        return v
    }

    @Test("flips and the y-x transpose move voxels where a naive index formula says")
    func orientationMatchesNaive() {
        let s = Coordinate(3, 5, 5)
        let v = positional(s)
        for bits in 0..<16 {
            let o = PatchOrientation(flipZ: bits & 1 != 0, flipY: bits & 2 != 0, flipX: bits & 4 != 0, transpose: bits & 8 != 0)
            let r = o.apply(to: v)
            for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
                var (a, b) = o.transpose ? (x, y) : (y, x)
                if o.flipY { a = s.y - 1 - a }
                if o.flipX { b = s.x - 1 - b }
                #expect(r[z, y, x] == v[o.flipZ ? s.z - 1 - z : z, a, b])
            } } }
        }
        // A quarter turn is a transpose then a flip: four of them are the identity, one is not.
        let quarter = PatchOrientation(flipY: true, transpose: true)
        var turned = v
        for _ in 0..<4 { turned = quarter.apply(to: turned) }
        #expect(turned.storage == v.storage)
        #expect(quarter.apply(to: v).storage != v.storage)
        // Quarter turn of a corner: (z, 0, 0) goes to a different corner.
        #expect(quarter.apply(to: v)[0, 0, 0] == v[0, 4, 0])
    }

    /// With a label defined as a function of the image, every geometric augmentation keeps the
    /// pair consistent: label == (raw > 0.5) after augmentation too.
    @Test("geometric augmentations transform image and label alike")
    func consistentPairs() {
        let s = Coordinate(4, 8, 8)
        var generator = SeededGenerator(seed: 5)
        var raw = Volume<Float>(shape: s)
        for i in raw.storage.indices { raw.storage[i] = Float.random(in: 0.01...1, using: &generator) }
        let label = raw.map { $0 > 0.5 ? Float(1) : 0 }
        let augmenter = Augmenter(configuration: AugmentationConfiguration(intensityScale: 0, intensityShift: 0,
                                                                           misalignmentProbability: 1, maximumMisalignment: 3))
        var changed = 0
        for seed in 0..<20 as Range<UInt64> {
            var r = raw, l = label, g = SeededGenerator(seed: seed)
            augmenter.apply(raw: &r, label: &l, using: &g)
            #expect(l.storage == r.map { $0 > 0.5 ? Float(1) : 0 }.storage)
            if r.storage != raw.storage { changed += 1 }
        }
        #expect(changed >= 18)
    }

    @Test("intensity jitter is an affine map of the image only; missing sections blank one image section")
    func intensityAndMissingSections() {
        let s = Coordinate(4, 6, 6)
        let raw = positional(s).map { $0 / 40_000 }, label = positional(s).map { Float(Int($0) % 2) }
        var r = raw, l = label, g = SeededGenerator(seed: 9)
        Augmenter(configuration: AugmentationConfiguration(flip: false, rotate: false, intensityScale: 0.3, intensityShift: 0.2))
            .apply(raw: &r, label: &l, using: &g)
        #expect(l.storage == label.storage)
        let a = (r.storage[7] - r.storage[1]) / (raw.storage[7] - raw.storage[1]), b = r.storage[1] - a * raw.storage[1]
        #expect(abs(a - 1) <= 0.3 + 1e-5 && abs(b) <= 0.2 + 1e-5 && abs(a - 1) > 1e-4)
        for i in raw.storage.indices { #expect(abs(r.storage[i] - (a * raw.storage[i] + b)) < 1e-4) }

        var m = raw, ml = label, mg = SeededGenerator(seed: 1)
        Augmenter(configuration: AugmentationConfiguration(flip: false, rotate: false, intensityScale: 0, intensityShift: 0,
                                                           missingSectionProbability: 1)).apply(raw: &m, label: &ml, using: &mg)
        #expect(ml.storage == label.storage)
        let blank = (0..<s.z).filter { z in (0..<s.y).allSatisfy { y in (0..<s.x).allSatisfy { m[z, y, $0] == 0 } } }
        #expect(blank.count == 1)
        for z in 0..<s.z where z != blank.first { for y in 0..<s.y { for x in 0..<s.x { #expect(m[z, y, x] == raw[z, y, x]) } } }
    }

    @Test("a section shift moves sections from z onwards and fills with zero")
    func sectionShift() {
        let s = Coordinate(3, 5, 6)
        let v = positional(s).map { $0 + 1 }
        var shifted = v
        Augmenter.shiftSections(&shifted, from: 1, by: Coordinate(0, 2, -1))
        for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
            let (sy, sx) = (y - 2, x + 1)
            let expected: Float = z < 1 ? v[z, y, x] : (sy >= 0 && sy < s.y && sx < s.x ? v[z, sy, sx] : 0)
            #expect(shifted[z, y, x] == expected)
        } } }
    }

    @Test("augmentation and sampling repeat under a seed")
    func determinism() throws {
        let data = try syntheticTrainingVolume(Coordinate(6, 40, 40), seed: 2)
        let sampler = try PatchSampler(data: data, shape: Coordinate(4, 16, 16), foregroundFraction: 0.5)
        let augmenter = Augmenter(configuration: AugmentationConfiguration(missingSectionProbability: 0.5, misalignmentProbability: 0.5))
        func draw(_ seed: UInt64) -> [[Float]] {
            var g = SeededGenerator(seed: seed)
            return (0..<5).flatMap { _ -> [[Float]] in
                var (r, l) = sampler.next(using: &g)
                augmenter.apply(raw: &r, label: &l, using: &g)
                return [r.storage, l.storage]
            }
        }
        #expect(draw(4) == draw(4))
        #expect(draw(4) != draw(5))
    }

    @Test("foreground-centred patches: fraction 1 centres every patch on foreground; boxes stay inside")
    func foregroundSampling() throws {
        let data = try syntheticTrainingVolume(Coordinate(6, 40, 40), seed: 3, offset: Coordinate(2, 10, 20))
        #expect(!data.foreground.isEmpty && data.foreground.count < data.raw.box.voxelCount / 10)
        let shape = Coordinate(3, 8, 8)
        let always = try PatchSampler(data: data, shape: shape, foregroundFraction: 1)
        var g = SeededGenerator(seed: 1)
        var interior = 0
        for _ in 0..<200 {
            let box = always.nextBox(using: &g)
            #expect(data.raw.box.contains(box))
            let centre = box.offset + Coordinate.floorDivide(shape, Coordinate(repeating: 2))
            // Unless clamped at the border, the centre voxel itself is foreground.
            if box.offset != Coordinate.maximum(box.offset, data.raw.box.offset + Coordinate(1, 1, 1)) { continue }
            if box.end != Coordinate.minimum(box.end, data.raw.box.end - Coordinate(1, 1, 1)) { continue }
            interior += 1
            #expect(data.label[global: centre] != 0)
        }
        #expect(interior > 20)
        // Fraction 0.5 finds more foreground than uniform sampling does.
        func foregroundShare(_ fraction: Double) throws -> Double {
            let sampler = try PatchSampler(data: data, shape: shape, foregroundFraction: fraction)
            var g = SeededGenerator(seed: 7), sum = 0.0
            for _ in 0..<300 { sum += Double(sampler.next(using: &g).label.storage.reduce(0, +)) }
            return sum
        }
        #expect(try foregroundShare(0.5) > 2 * foregroundShare(0))
        #expect(throws: NNError.self) { try PatchSampler(data: data, shape: Coordinate(7, 8, 8), foregroundFraction: 0.5) }
    }

    @Test("average precision and F1 agree with a sort-based reference")
    func metricsAgainstReference() {
        var g = SeededGenerator(seed: 11)
        let n = 3000
        // Probabilities on bin centres of a 1000-bin histogram, so binning is exact.
        let labels = (0..<n).map { _ in Float(Double.random(in: 0..<1, using: &g) < 0.1 ? 1 : 0) }
        let probabilities = labels.map { l in (Float(Int.random(in: 0..<1000, using: &g) / 2 + (l > 0 ? 400 : 0)) + 0.5) / 1000 }
        let metrics = probabilities.withUnsafeBufferPointer { p in labels.withUnsafeBufferPointer { ValidationMetrics(probabilities: p, labels: $0) } }
        // Reference: every distinct probability as a threshold, from high to low.
        let positives = labels.reduce(0, +)
        var ap = 0.0, bestF1 = 0.0, f1Half = 0.0, previousRecall = 0.0
        for t in Set(probabilities).sorted(by: >) {
            let predicted = probabilities.indices.filter { probabilities[$0] >= t }
            let tp = predicted.filter { labels[$0] > 0 }.count
            let precision = Double(tp) / Double(predicted.count), recall = Double(tp) / Double(positives)
            ap += (recall - previousRecall) * precision
            previousRecall = recall
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            bestF1 = max(bestF1, f1)
            if t >= 0.5 { f1Half = f1 }
        }
        #expect(abs(metrics.averagePrecision - ap) < 1e-9)
        #expect(abs(metrics.bestF1 - bestF1) < 1e-9)
        #expect(abs(metrics.f1AtHalf - f1Half) < 1e-9)
        #expect(metrics.positives == Int(positives))
        #expect(metrics.averagePrecision > 0.3 && metrics.averagePrecision < 0.99)
    }
}

/// A random uint8 image with sparse foreground blobs where the image is bright.
func syntheticTrainingVolume(_ shape: Coordinate, seed: UInt64, offset: Coordinate = .zero) throws -> TrainingVolume {
    var g = SeededGenerator(seed: seed)
    let box = Box(offset: offset, shape: shape)
    var raw = Volume<UInt8>(box: box, repeating: 0), label = Volume<UInt8>(box: box, repeating: 0)
    for i in raw.storage.indices { raw.storage[i] = UInt8.random(in: 0...150, using: &g) }
    for _ in 0..<max(1, shape.product / 1000) {
        let c = Coordinate(Int.random(in: 0..<shape.z, using: &g), Int.random(in: 0..<shape.y, using: &g), Int.random(in: 0..<shape.x, using: &g))
        for z in max(c.z - 1, 0)..<min(c.z + 1, shape.z) {
            for y in max(c.y - 2, 0)..<min(c.y + 2, shape.y) {
                for x in max(c.x - 2, 0)..<min(c.x + 2, shape.x) {
                    raw[z, y, x] = 230
                    label[z, y, x] = 1
                }
            }
        }
    }
    return try TrainingVolume(raw: raw, label: label)
}
