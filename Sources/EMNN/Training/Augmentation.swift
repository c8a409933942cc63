import EMVolume

/// Which augmentations training applies to each patch, and how strongly.
public struct AugmentationConfiguration: Codable, Equatable, Sendable {
    /// Random flips along z, y and x.
    public var flip: Bool
    /// Random 90-degree rotations in the y-x plane (only when the patch's y and x sizes are equal).
    public var rotate: Bool
    /// Intensities are multiplied by `1 + u * intensityScale`, `u` uniform in [-1, 1].
    public var intensityScale: Float
    /// Then shifted by `v * intensityShift`, `v` uniform in [-1, 1].
    public var intensityShift: Float
    /// Probability that one section of the image is blanked (a missing section).
    public var missingSectionProbability: Double
    /// Probability that the sections from a random z onwards are shifted in-plane (misalignment).
    public var misalignmentProbability: Double
    /// Largest in-plane shift of a misalignment, in voxels.
    public var maximumMisalignment: Int

    /// Creates a configuration; the defaults flip, rotate and jitter intensities by 10 %.
    public init(flip: Bool = true, rotate: Bool = true, intensityScale: Float = 0.1, intensityShift: Float = 0.1,
                missingSectionProbability: Double = 0, misalignmentProbability: Double = 0, maximumMisalignment: Int = 8) {
        self.flip = flip
        self.rotate = rotate
        self.intensityScale = intensityScale
        self.intensityShift = intensityShift
        self.missingSectionProbability = missingSectionProbability
        self.misalignmentProbability = misalignmentProbability
        self.maximumMisalignment = maximumMisalignment
    }

    /// No augmentation at all.
    public static let none = AugmentationConfiguration(flip: false, rotate: false, intensityScale: 0, intensityShift: 0)

    private enum CodingKeys: String, CodingKey {
        case flip, rotate, intensityScale, intensityShift, missingSectionProbability, misalignmentProbability, maximumMisalignment
    }

    /// Decodes a configuration; absent keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AugmentationConfiguration()
        self.init(flip: try c.decodeIfPresent(Bool.self, forKey: .flip) ?? d.flip,
                  rotate: try c.decodeIfPresent(Bool.self, forKey: .rotate) ?? d.rotate,
                  intensityScale: try c.decodeIfPresent(Float.self, forKey: .intensityScale) ?? d.intensityScale,
                  intensityShift: try c.decodeIfPresent(Float.self, forKey: .intensityShift) ?? d.intensityShift,
                  missingSectionProbability: try c.decodeIfPresent(Double.self, forKey: .missingSectionProbability) ?? d.missingSectionProbability,
                  misalignmentProbability: try c.decodeIfPresent(Double.self, forKey: .misalignmentProbability) ?? d.misalignmentProbability,
                  maximumMisalignment: try c.decodeIfPresent(Int.self, forKey: .maximumMisalignment) ?? d.maximumMisalignment)
    }
}

/// A rigid rearrangement of a patch: optional flips per axis, then an optional y-x transpose.
/// Together these give every flip and every 90-degree in-plane rotation.
public struct PatchOrientation: Equatable, Sendable {
    /// Reverse z.
    public var flipZ = false
    /// Reverse y.
    public var flipY = false
    /// Reverse x.
    public var flipX = false
    /// Swap y and x (needs a square y-x plane).
    public var transpose = false

    /// Creates an orientation.
    public init(flipZ: Bool = false, flipY: Bool = false, flipX: Bool = false, transpose: Bool = false) {
        self.flipZ = flipZ
        self.flipY = flipY
        self.flipX = flipX
        self.transpose = transpose
    }

    /// `volume` rearranged: output voxel (z, y, x) is input voxel (z', y', x') with flips applied
    /// after the optional transpose of the output's (y, x).
    public func apply(to volume: Volume<Float>) -> Volume<Float> {
        let s = volume.shape
        precondition(!transpose || s.y == s.x, "a y-x transpose needs equal y and x sizes")
        var result = Volume<Float>(box: volume.box)
        volume.storage.withUnsafeBufferPointer { input in
            result.storage.withUnsafeMutableBufferPointer { output in
                var o = 0
                for z in 0..<s.z {
                    let iz = flipZ ? s.z - 1 - z : z
                    for y in 0..<s.y {
                        for x in 0..<s.x {
                            var (a, b) = transpose ? (x, y) : (y, x)
                            if flipY { a = s.y - 1 - a }
                            if flipX { b = s.x - 1 - b }
                            output[o] = input[(iz * s.y + a) * s.x + b]
                            o += 1
                        }
                    }
                }
            }
        }
        return result
    }
}

/// Random augmentation of image/label pairs of equal shape; geometric changes hit both alike,
/// intensity changes and missing sections only the image.
public struct Augmenter: Sendable {
    /// What to apply.
    public let configuration: AugmentationConfiguration

    /// Creates an augmenter.
    public init(configuration: AugmentationConfiguration) {
        self.configuration = configuration
    }

    /// Augments `raw` and `label` in place with choices drawn from `generator`.
    public func apply(raw: inout Volume<Float>, label: inout Volume<Float>, using generator: inout SeededGenerator) {
        precondition(raw.shape == label.shape, "augmentation needs image and label of one shape")
        let s = raw.shape
        var orientation = PatchOrientation()
        if configuration.flip {
            orientation.flipZ = Bool.random(using: &generator)
            orientation.flipY = Bool.random(using: &generator)
            orientation.flipX = Bool.random(using: &generator)
        }
        if configuration.rotate, s.y == s.x { orientation.transpose = Bool.random(using: &generator) }
        if orientation != PatchOrientation() {
            raw = orientation.apply(to: raw)
            label = orientation.apply(to: label)
        }
        if configuration.misalignmentProbability > 0, s.z > 1,
           Double.random(in: 0..<1, using: &generator) < configuration.misalignmentProbability {
            let m = configuration.maximumMisalignment
            let from = Int.random(in: 1..<s.z, using: &generator)
            let shift = Coordinate(0, Int.random(in: -m...m, using: &generator), Int.random(in: -m...m, using: &generator))
            Self.shiftSections(&raw, from: from, by: shift)
            Self.shiftSections(&label, from: from, by: shift)
        }
        if configuration.missingSectionProbability > 0,
           Double.random(in: 0..<1, using: &generator) < configuration.missingSectionProbability {
            Self.blankSection(&raw, z: Int.random(in: 0..<s.z, using: &generator))
        }
        if configuration.intensityScale > 0 || configuration.intensityShift > 0 {
            let scale = 1 + Float.random(in: -1...1, using: &generator) * configuration.intensityScale
            let shift = Float.random(in: -1...1, using: &generator) * configuration.intensityShift
            raw.storage.withUnsafeMutableBufferPointer { v in
                for i in 0..<v.count { v[i] = v[i] * scale + shift }
            }
        }
    }

    /// Moves sections `from..<z` in-plane by `shift` (y, x); uncovered voxels become 0.
    public static func shiftSections(_ volume: inout Volume<Float>, from: Int, by shift: Coordinate) {
        let s = volume.shape, plane = s.y * s.x
        volume.storage.withUnsafeMutableBufferPointer { v in
            var section = [Float](repeating: 0, count: plane)
            for z in max(from, 0)..<s.z {
                let base = z * plane
                for i in 0..<plane { section[i] = v[base + i] }
                for y in 0..<s.y {
                    for x in 0..<s.x {
                        let sy = y - shift.y, sx = x - shift.x
                        let inside = sy >= 0 && sy < s.y && sx >= 0 && sx < s.x
                        v[base + y * s.x + x] = inside ? section[sy * s.x + sx] : 0
                    }
                }
            }
        }
    }

    /// Sets section `z` to 0.
    public static func blankSection(_ volume: inout Volume<Float>, z: Int) {
        let plane = volume.shape.y * volume.shape.x
        volume.storage.withUnsafeMutableBufferPointer { v in
            for i in (z * plane)..<((z + 1) * plane) { v[i] = 0 }
        }
    }
}
