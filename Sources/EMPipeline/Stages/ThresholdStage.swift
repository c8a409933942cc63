import EMVolume

/// `kind: threshold`: a binary mask (uint8 0/1) of the voxels beyond a value.
public struct ThresholdStage: StageKind {
    /// The comparisons `comparison:` accepts.
    public enum Comparison: String, ParameterChoice, Sendable {
        case greater, greater_equal, less, less_equal

        /// True when `value` passes against `threshold`.
        @inline(__always)
        func passes(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .greater: return value > threshold
            case .greater_equal: return value >= threshold
            case .less: return value < threshold
            case .less_equal: return value <= threshold
            }
        }
    }

    static let input = Parameter<VolumeReference>.required("input", .volume, "The volume to threshold: a stage name or a store address.")
    static let value = Parameter<Double>.required("value", .anyNumber, "The threshold.")
    static let comparison = Parameter.choice("comparison", default: Comparison.greater, "How a voxel is compared with the value.")

    /// Creates the kind.
    public init() {}

    public var schema: StageSchema {
        StageSchema(kind: "threshold", summary: "Marks the voxels beyond a value: 1 where the comparison holds, else 0 (uint8).",
                    parameters: [Self.input.schema, Self.value.schema, Self.comparison.schema])
    }

    public func parameters(_ values: StageValues) -> Threshold {
        Threshold(value: values[Self.value], comparison: values[Self.comparison])
    }

    public func describe(_ parameters: Threshold, _ check: inout StageCheck) -> VolumeDescriptor? {
        check.inputs[Self.input.name]?.with(dataType: .uint8)
    }

    public func makeImplementation(_ parameters: Threshold, for stage: PipelineStage, in context: StageContext) throws -> StageImplementation {
        Thresholder(operation: parameters)
    }
}

/// The threshold of one volume, for every element type (a threshold stage's parameters).
public struct Threshold: VolumeOperation, Sendable {
    /// The threshold.
    public let value: Double
    /// How a voxel is compared with it.
    public let comparison: ThresholdStage.Comparison

    public func run<T: VoxelScalar>(_ volume: Volume<T>) -> Volume<UInt8> {
        var mask = Volume<UInt8>(box: volume.box)
        let (value, comparison) = (self.value, self.comparison)
        volume.storage.withUnsafeBufferPointer { source in
            mask.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count { target[i] = comparison.passes(source[i].doubleValue, value) ? 1 : 0 }
            }
        }
        return mask
    }
}

final class Thresholder: BlockTransform {
    private let operation: Threshold

    init(operation: Threshold) {
        self.operation = operation
    }

    func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
        AnyVolume(try inputs["input"]!.apply(operation))
    }
}
