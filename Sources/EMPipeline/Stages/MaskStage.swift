import EMVolume

/// `kind: mask`: keeps a volume's voxels where a second volume (a region mask) is nonzero and
/// sets the others to a fill value.
public struct MaskStage: StageKind {
    static let input = Parameter<VolumeReference>.required("input", .volume, "The volume to mask: a stage name or a store address.")
    static let mask = Parameter<VolumeReference>.required("mask", .volume, "The mask (nonzero = keep): a stage name or a store address.")
    static let fill = Parameter<Double>.optional("fill", .anyNumber, default: 0, "Value of the voxels outside the mask.")

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "mask", summary: "Keeps the voxels of a volume where a mask is nonzero; the others take a fill value.",
                    details: "Both volumes must have the same shape. Useful to restrict predictions or labels to a region of interest.",
                    parameters: [Self.input.schema, Self.mask.schema, Self.fill.schema])
    }

    /// The fill value.
    public func parameters(_ values: StageValues) -> Double { values[Self.fill] }

    public func describe(_ fill: Double, _ check: inout StageCheck) -> VolumeDescriptor? {
        guard let input = check.inputs[Self.input.name], let mask = check.inputs[Self.mask.name] else { return nil }
        guard input.shape == mask.shape else {
            check.error("incompatible shapes: the input is \(input.shape), the mask is \(mask.shape) (z,y,x voxels)", parameter: Self.mask.name)
            return nil
        }
        return input
    }

    public func makeImplementation(_ fill: Double, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Masker(fill: fill)
    }
}

/// Applies a mask to blocks.
final class Masker: BlockTransform {
    private let fill: Double

    init(fill: Double) {
        self.fill = fill
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        let keep = try inputs["mask"]!.apply(Nonzero())
        return try inputs["input"]!.apply(KeepWhere(keep: keep, fill: fill))
    }
}

/// 1 where a voxel is nonzero, else 0.
struct Nonzero: VolumeOperation {
    func run<T: VoxelScalar>(_ volume: Volume<T>) -> [Bool] {
        volume.storage.map { $0 != .zero }
    }
}

/// The voxels where `keep` holds, `fill` elsewhere.
private struct KeepWhere: VolumeOperation {
    let keep: [Bool]
    let fill: Double

    func run<T: VoxelScalar>(_ volume: Volume<T>) -> AnyVolume {
        var result = volume
        let replacement = T(clampingDouble: fill)
        keep.withUnsafeBufferPointer { keep in
            result.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<target.count where !keep[i] { target[i] = replacement }
            }
        }
        return AnyVolume(result)
    }
}
