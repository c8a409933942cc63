import EMVolume
import Foundation

/// The architecture of a 3D U-Net.
///
/// Level `l` (0 = full resolution) has `convolutionsPerLevel` convolutions of kernel
/// `kernelSizes[l]` and `width(level: l)` channels, each followed by ReLU (and group
/// normalisation before it when `normalizationGroups` is set). Between levels `l` and `l + 1`
/// the encoder max-pools by `poolingFactors[l]` and the decoder upsamples by a transposed
/// convolution with kernel = stride = that factor; skips are centre-cropped and concatenated
/// before the upsampled features. A 1x1x1 convolution maps to `outputChannels` logits. With
/// `inputNormalization` the network first standardises its input.
///
/// Encoded as JSON with coordinates as `[z, y, x]` arrays.
public struct UNetConfiguration: Codable, Equatable, Sendable {
    /// Channels of the input image.
    public var inputChannels: Int
    /// Channels of the output (one logit per class or affinity).
    public var outputChannels: Int
    /// Number of resolution levels (1 = no pooling).
    public var depth: Int
    /// Channels at level 0.
    public var baseWidth: Int
    /// Factor between the widths of successive levels.
    public var widthMultiplier: Double
    /// Kernel per level, `depth` entries; sizes must be odd (e.g. 1x3x3 or 3x3x3).
    public var kernelSizes: [Coordinate]
    /// Pooling factor between level `l` and `l + 1`, `depth - 1` entries (e.g. 1x2x2 or 2x2x2).
    public var poolingFactors: [Coordinate]
    /// Convolutions per level on each side.
    public var convolutionsPerLevel: Int
    /// `.same` keeps sizes; `.valid` shrinks them and the output is smaller than the input.
    public var padding: Padding
    /// Groups of the group normalisation after each convolution, or `nil` for none.
    public var normalizationGroups: Int?
    /// Seed of the weight initialisation.
    public var seed: UInt64
    /// How the initial weights and biases are drawn.
    public var initialization: WeightInitialization
    /// Output channels of individual layers (`encoder.L.convI`, `decoder.L.convI`, `upsample.L`)
    /// that differ from `width(level:)`, as a compacted (pruned) network has; `nil` for none.
    public var layerWidths: [String: Int]?
    /// Standardisation of the input voxels before the first convolution, `nil` for none.
    public var inputNormalization: InputNormalization?

    /// Creates a configuration; the defaults describe a depth-3, base-16, 3x3x3, pool-2 U-Net.
    public init(inputChannels: Int = 1, outputChannels: Int = 1, depth: Int = 3, baseWidth: Int = 16,
                widthMultiplier: Double = 2, kernelSizes: [Coordinate]? = nil, poolingFactors: [Coordinate]? = nil,
                convolutionsPerLevel: Int = 2, padding: Padding = .same, normalizationGroups: Int? = nil, seed: UInt64 = 0,
                initialization: WeightInitialization = .he, inputNormalization: InputNormalization? = nil) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.depth = depth
        self.baseWidth = baseWidth
        self.widthMultiplier = widthMultiplier
        self.kernelSizes = kernelSizes ?? Array(repeating: Coordinate(repeating: 3), count: max(depth, 0))
        self.poolingFactors = poolingFactors ?? Array(repeating: Coordinate(repeating: 2), count: max(depth - 1, 0))
        self.convolutionsPerLevel = convolutionsPerLevel
        self.padding = padding
        self.normalizationGroups = normalizationGroups
        self.seed = seed
        self.initialization = initialization
        self.layerWidths = nil
        self.inputNormalization = inputNormalization
    }

    /// Output channels of the layer `name` at `level`: its `layerWidths` entry or `width(level:)`.
    public func width(layer name: String, level: Int) -> Int {
        layerWidths?[name] ?? width(level: level)
    }

    /// Output channels of the last convolution of the `side` ("encoder" or "decoder") block at `level`.
    func blockOutputWidth(_ side: String, level: Int) -> Int {
        width(layer: "\(side).\(level).conv\(convolutionsPerLevel - 1)", level: level)
    }

    /// Channels leaving `level` towards the level above: the decoder's output, or the encoder's at the bottom.
    func levelOutputWidth(level: Int) -> Int {
        blockOutputWidth(level == depth - 1 ? "encoder" : "decoder", level: level)
    }

    /// The names of the layers `layerWidths` may set, in forward order.
    public var widthLayerNames: [String] {
        let convolutions = (0..<max(convolutionsPerLevel, 0))
        var names = (0..<max(depth, 0)).flatMap { level in convolutions.map { "encoder.\(level).conv\($0)" } }
        for level in (0..<max(depth - 1, 0)).reversed() {
            names.append("upsample.\(level)")
            names += convolutions.map { "decoder.\(level).conv\($0)" }
        }
        return names
    }

    /// Channels at `level`: `baseWidth * widthMultiplier^level`, rounded.
    public func width(level: Int) -> Int {
        Int((Double(baseWidth) * pow(widthMultiplier, Double(level))).rounded())
    }

    /// Throws `NNError.invalidConfiguration` with what would work when the architecture is nonsense.
    public func validate() throws {
        func fail(_ message: String) -> NNError { .invalidConfiguration(message) }
        guard depth >= 1 else { throw fail("depth is \(depth); a U-Net needs at least 1 level (3 or 4 is typical)") }
        guard inputChannels >= 1, outputChannels >= 1 else {
            throw fail("input and output channels must be at least 1 (got \(inputChannels) and \(outputChannels))")
        }
        guard baseWidth >= 1, widthMultiplier > 0 else {
            throw fail("base width \(baseWidth) and width multiplier \(widthMultiplier) must be positive (e.g. 16 and 2)")
        }
        for level in 0..<depth where width(level: level) < 1 {
            throw fail("level \(level) would have \(width(level: level)) channels (base \(baseWidth) x \(widthMultiplier)^\(level)); "
                + "use a width multiplier of at least \(pow(1 / Double(baseWidth), 1 / Double(max(level, 1))))")
        }
        guard convolutionsPerLevel >= 1 else { throw fail("convolutions_per_level is \(convolutionsPerLevel); use 1 or more (2 is typical)") }
        guard kernelSizes.count == depth else {
            throw fail("\(kernelSizes.count) kernel sizes given for \(depth) levels; give one per level, e.g. \(Array(repeating: "3,3,3", count: depth))")
        }
        for (level, k) in kernelSizes.enumerated() where !Coordinate.all(k, .zero, >) || k.components.contains(where: { $0 % 2 == 0 }) {
            throw fail("kernel \(k) at level \(level): sizes must be positive and odd (e.g. 1,3,3 or 3,3,3) so outputs stay centred")
        }
        guard poolingFactors.count == depth - 1 else {
            throw fail("\(poolingFactors.count) pooling factors given for \(depth) levels; give depth - 1 = \(depth - 1), e.g. 1,2,2 or 2,2,2")
        }
        for (level, f) in poolingFactors.enumerated() where !Coordinate.all(f, .zero, >) {
            throw fail("pooling factor \(f) between levels \(level) and \(level + 1) must be positive on every axis (e.g. 1,2,2)")
        }
        if let groups = normalizationGroups {
            for level in 0..<depth where groups < 1 || width(level: level) % groups != 0 {
                throw fail("group normalisation with \(groups) groups needs every width divisible by it; level \(level) has \(width(level: level)) channels "
                    + "(widths \((0..<depth).map { width(level: $0) }))")
            }
        }
        if let normalization = inputNormalization, !(normalization.standardDeviation > 0 && normalization.standardDeviation.isFinite
                                                       && normalization.mean.isFinite) {
            throw fail("input_normalization needs a finite mean and a positive standard deviation (got \(normalization.mean) and "
                + "\(normalization.standardDeviation)), e.g. the image's own: mean 0.5, standard_deviation 0.2 for uint8 images / 255")
        }
        if let layerWidths {
            let known = Set(widthLayerNames)
            for (name, width) in layerWidths.sorted(by: { $0.key < $1.key }) {
                guard known.contains(name) else {
                    throw fail("layer_widths names '\(name)', which is not a layer of this network (known: \(widthLayerNames.joined(separator: ", ")))")
                }
                guard width >= 1 else { throw fail("layer_widths['\(name)'] is \(width); every layer needs at least 1 channel") }
                if let groups = normalizationGroups, width % groups != 0, !name.hasPrefix("upsample") {
                    throw fail("layer_widths['\(name)'] = \(width) is not divisible by the \(groups) normalisation groups")
                }
            }
        }
    }
}

extension UNetConfiguration {
    private enum CodingKeys: String, CodingKey {
        case inputChannels, outputChannels, depth, baseWidth, widthMultiplier, kernelSizes, poolingFactors
        case convolutionsPerLevel, padding, normalizationGroups, seed, initialization, layerWidths, inputNormalization
    }

    /// Decodes a configuration whose coordinates are `[z, y, x]` arrays.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func coordinates(_ key: CodingKeys) throws -> [Coordinate] {
            try c.decode([[Int]].self, forKey: key).map { array in
                guard let coordinate = Coordinate(array) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected [z, y, x], got \(array)")
                }
                return coordinate
            }
        }
        self.init(inputChannels: try c.decode(Int.self, forKey: .inputChannels),
                  outputChannels: try c.decode(Int.self, forKey: .outputChannels),
                  depth: try c.decode(Int.self, forKey: .depth),
                  baseWidth: try c.decode(Int.self, forKey: .baseWidth),
                  widthMultiplier: try c.decode(Double.self, forKey: .widthMultiplier),
                  kernelSizes: try coordinates(.kernelSizes),
                  poolingFactors: try coordinates(.poolingFactors),
                  convolutionsPerLevel: try c.decode(Int.self, forKey: .convolutionsPerLevel),
                  padding: try c.decode(Padding.self, forKey: .padding),
                  normalizationGroups: try c.decodeIfPresent(Int.self, forKey: .normalizationGroups),
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0,
                  initialization: try c.decodeIfPresent(WeightInitialization.self, forKey: .initialization) ?? .he,
                  inputNormalization: try c.decodeIfPresent(InputNormalization.self, forKey: .inputNormalization))
        layerWidths = try c.decodeIfPresent([String: Int].self, forKey: .layerWidths)
    }

    /// Encodes the configuration with coordinates as `[z, y, x]` arrays.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(outputChannels, forKey: .outputChannels)
        try c.encode(depth, forKey: .depth)
        try c.encode(baseWidth, forKey: .baseWidth)
        try c.encode(widthMultiplier, forKey: .widthMultiplier)
        try c.encode(kernelSizes.map(\.components), forKey: .kernelSizes)
        try c.encode(poolingFactors.map(\.components), forKey: .poolingFactors)
        try c.encode(convolutionsPerLevel, forKey: .convolutionsPerLevel)
        try c.encode(padding, forKey: .padding)
        try c.encodeIfPresent(normalizationGroups, forKey: .normalizationGroups)
        try c.encode(seed, forKey: .seed)
        try c.encode(initialization, forKey: .initialization)
        try c.encodeIfPresent(layerWidths, forKey: .layerWidths)
        try c.encodeIfPresent(inputNormalization, forKey: .inputNormalization)
    }
}

/// The affine map `(x - mean) / standardDeviation` a network applies to its input voxels (as
/// given to it: uint8 images divided by 255), so that they are centred with unit spread. The
/// convolutions' zero padding then stands for an average voxel.
public struct InputNormalization: Codable, Equatable, Sendable {
    /// The voxel value mapped to 0.
    public var mean: Float
    /// The voxel spread mapped to 1.
    public var standardDeviation: Float

    /// Creates a normalisation.
    public init(mean: Float, standardDeviation: Float) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }
}

/// How a convolution's initial weights and bias are drawn (uniformly, with a bound from the fan-in:
/// input channels x kernel taps, or output channels x taps for a transposed convolution).
public enum WeightInitialization: String, Codable, Equatable, Sendable, CaseIterable {
    /// He (Kaiming) uniform: weights in +-sqrt(6 / fan-in) (variance 2 / fan-in, which keeps ReLU
    /// activations' scale from layer to layer), zero bias.
    case he
    /// PyTorch's default for Conv3d and ConvTranspose3d: weights and bias in +-1 / sqrt(fan-in)
    /// (`kaiming_uniform_(a=sqrt(5))`), a third of He's variance.
    case pytorch

    /// The bounds of the uniform weight and bias distributions for `fanIn` (0: a zero bias).
    func limits(fanIn: Int) -> (weight: Float, bias: Float) {
        switch self {
        case .he: return (Float((6.0 / Double(fanIn)).squareRoot()), 0)
        case .pytorch:
            let bound = Float(1 / Double(fanIn).squareRoot())
            return (bound, bound)
        }
    }
}
