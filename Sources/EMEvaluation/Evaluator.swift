import Foundation
import EMVolume
import EMStorage

/// Evaluates a predicted volume against its truth: voxel, object and CREMI metrics and section
/// overlays, streaming z slabs so that volumes larger than memory work (see
/// `EvaluationOptions` for what is kept in memory).
public enum Evaluator {
    /// Evaluates stores, reading z slabs (with the next slab read while the current one is
    /// counted).
    ///
    /// - Parameters:
    ///   - prediction: scores (float32, or uint8 / uint16 scaled by `options.scoreScale`).
    ///   - truth: integer labels, classified by `options.truthRule`.
    ///   - mask: optional integer mask; voxels where it is 0 are ignored.
    ///   - raw: optional raw EM data drawn under the overlays (any type; scaled to 0...255 per section).
    ///   - name: the name in reports; nil: the truth's address.
    ///   - progress: called with (slabs done, slabs in all) after each slab.
    /// - Throws: `EvaluationError` for mismatched shapes, unsupported types, bad options or
    ///   non-finite scores; `StorageError` from reads.
    public static func evaluate(prediction: VolumeStore, truth: VolumeStore, mask: VolumeStore? = nil, raw: VolumeStore? = nil,
                                name: String? = nil, options: EvaluationOptions = EvaluationOptions(),
                                progress: ((Int, Int) -> Void)? = nil) throws -> VolumeEvaluation {
        let bins = try options.validate()
        let shape = truth.metadata.shape
        for (role, store) in [("prediction", prediction), ("mask", mask), ("raw", raw)] {
            guard let store else { continue }
            guard store.metadata.shape == shape else {
                throw EvaluationError.shapeMismatch(what: "\(role) \(store.address)", expected: "truth shape \(shape)", found: "\(store.metadata.shape)")
            }
        }
        let region = try checkedRegion(options.region, bounds: Box(shape: shape))
        let voxelSize = options.voxelSize ?? truth.metadata.voxelSize
        let placement = VoxelPlacement(offset: region.offset, voxelSize: voxelSize, origin: truth.metadata.origin)
        let slabDepth = options.slabDepth ?? max(1, prediction.metadata.chunkShape.z)
        try checkLabelType(truth, role: "truth")
        if let mask { try checkLabelType(mask, role: "mask") }
        let rule = options.truthRule
        let classes: (Box) throws -> Volume<UInt8> = { box in
            let keep = try mask.map { try readMask($0, box) }
            return try readClasses(truth, box, rule: rule, mask: keep)
        }
        let gray: ((Box) throws -> Volume<UInt8>)? = raw.map { store in { box in try readGray(store, box) } }
        let bytes = truth.metadata.dataType.size + (mask?.metadata.dataType.size ?? 0)
        func run<S: ScoreValue>(_ type: S.Type) throws -> EvaluationOutcome {
            let inputs = EvaluationInputs<S>(scores: { try readVolume(prediction, $0, as: S.self) }, classes: classes, gray: gray,
                                             bytesPerVoxel: bytes + MemoryLayout<S>.size)
            return try EvaluationPass(inputs: inputs, region: region, placement: placement, options: options, bins: bins,
                                      scale: options.scoreScale ?? S.defaultScale, slabDepth: slabDepth).run(progress: progress)
        }
        let outcome: EvaluationOutcome
        switch prediction.metadata.dataType {
        case .float32: outcome = try run(Float.self)
        case .uint8: outcome = try run(UInt8.self)
        case .uint16: outcome = try run(UInt16.self)
        case .uint32, .uint64:
            throw EvaluationError.unsupportedDataType(what: "prediction \(prediction.address)", dataType: prediction.metadata.dataType.rawValue,
                                                      supported: "float32, uint8 or uint16 scores")
        }
        return VolumeEvaluation(name: name ?? truth.address.description, prediction: prediction.address.description,
                                truth: truth.address.description, mask: mask?.address.description, region: region,
                                voxelSize: voxelSize, options: options, voxel: outcome.voxel, objects: outcome.objects,
                                cremi: outcome.cremi, overlays: outcome.overlays, notes: outcome.notes, performance: outcome.performance)
    }

    /// Evaluates volumes in memory (same metrics as the store version).
    ///
    /// - Throws: `EvaluationError.shapeMismatch` when the boxes differ, and the errors of the
    ///   store version.
    public static func evaluate<S: ScoreValue, L: VoxelScalar & FixedWidthInteger>(
        prediction: Volume<S>, truth: Volume<L>, mask: Volume<UInt8>? = nil, raw: Volume<UInt8>? = nil,
        voxelSize: VoxelSize = .unit, origin: WorldPoint = .zero, name: String = "volume",
        options: EvaluationOptions = EvaluationOptions()
    ) throws -> VolumeEvaluation {
        let bins = try options.validate()
        for (role, box) in [("truth", truth.box), ("mask", mask?.box), ("raw", raw?.box)] {
            if let box, box != prediction.box {
                throw EvaluationError.shapeMismatch(what: role, expected: "prediction box \(prediction.box)", found: "\(box)")
            }
        }
        let region = try checkedRegion(options.region, bounds: prediction.box)
        let voxelSize = options.voxelSize ?? voxelSize
        let rule = options.truthRule
        let inputs = EvaluationInputs<S>(
            scores: { prediction.cropped(to: $0) },
            classes: { box in try rule.classify(truth: truth.cropped(to: box), mask: mask?.cropped(to: box)) },
            gray: raw.map { volume in { volume.cropped(to: $0) } },
            bytesPerVoxel: MemoryLayout<S>.size + MemoryLayout<L>.size + (mask == nil ? 0 : 1))
        let outcome = try EvaluationPass(inputs: inputs, region: region,
                                         placement: VoxelPlacement(offset: region.offset, voxelSize: voxelSize, origin: origin),
                                         options: options, bins: bins, scale: options.scoreScale ?? S.defaultScale,
                                         slabDepth: options.slabDepth ?? 16).run(progress: nil)
        return VolumeEvaluation(name: name, prediction: "memory", truth: "memory", mask: mask == nil ? nil : "memory", region: region,
                                voxelSize: voxelSize, options: options, voxel: outcome.voxel, objects: outcome.objects,
                                cremi: outcome.cremi, overlays: outcome.overlays, notes: outcome.notes, performance: outcome.performance)
    }

    /// The region to evaluate: `region` (which must lie inside `bounds`) or all of `bounds`.
    private static func checkedRegion(_ region: Box?, bounds: Box) throws -> Box {
        guard let region else { return bounds }
        guard !region.isEmpty, bounds.contains(region) else {
            throw EvaluationError.invalidOption(name: "region", expected: "a non-empty box inside the volume \(bounds), got \(region)")
        }
        return region
    }

    private static func checkLabelType(_ store: VolumeStore, role: String) throws {
        if store.metadata.dataType.isFloatingPoint {
            throw EvaluationError.unsupportedDataType(what: "\(role) \(store.address)", dataType: store.metadata.dataType.rawValue,
                                                      supported: "integer labels (uint8, uint16, uint32, uint64)")
        }
    }

    /// The mask of a box as 0/1 bytes.
    private static func readMask(_ store: VolumeStore, _ box: Box) throws -> Volume<UInt8> {
        func nonzero<T: VoxelScalar>(_ type: T.Type) throws -> Volume<UInt8> {
            let mask = try readVolume(store, box, as: T.self)
            var keep = Volume<UInt8>.zeros(box)
            keep.storage.withUnsafeMutableBufferPointer { k in
                mask.storage.withUnsafeBufferPointer { m in
                    for i in 0..<m.count where m[i] != .zero { k[i] = 1 }
                }
            }
            return keep
        }
        switch store.metadata.dataType {
        case .uint8: return try readVolume(store, box, as: UInt8.self)
        case .uint16: return try nonzero(UInt16.self)
        case .uint32: return try nonzero(UInt32.self)
        case .uint64: return try nonzero(UInt64.self)
        case .float32: return try nonzero(Float.self)
        }
    }

    /// The classes of a box of a truth store.
    private static func readClasses(_ store: VolumeStore, _ box: Box, rule: TruthRule, mask: Volume<UInt8>?) throws -> Volume<UInt8> {
        switch store.metadata.dataType {
        case .uint8: return try rule.classify(truth: readVolume(store, box, as: UInt8.self), mask: mask)
        case .uint16: return try rule.classify(truth: readVolume(store, box, as: UInt16.self), mask: mask)
        case .uint32: return try rule.classify(truth: readVolume(store, box, as: UInt32.self), mask: mask)
        case .uint64: return try rule.classify(truth: readVolume(store, box, as: UInt64.self), mask: mask)
        case .float32:
            throw EvaluationError.unsupportedDataType(what: "truth \(store.address)", dataType: "float32", supported: "integer labels")
        }
    }

    /// A box of raw data as 0...255 gray values (uint8 as is, other types stretched between
    /// the box's minimum and maximum).
    private static func readGray(_ store: VolumeStore, _ box: Box) throws -> Volume<UInt8> {
        func stretched<T: VoxelScalar>(_ type: T.Type) throws -> Volume<UInt8> {
            let volume = try readVolume(store, box, as: T.self)
            let values = volume.storage.map(\.doubleValue)
            let low = values.min() ?? 0, high = values.max() ?? 0
            let factor = high > low ? 255 / (high - low) : 0
            return volume.map { UInt8(clampingDouble: ($0.doubleValue - low) * factor) }
        }
        switch store.metadata.dataType {
        case .uint8: return try readVolume(store, box, as: UInt8.self)
        case .uint16: return try stretched(UInt16.self)
        case .uint32: return try stretched(UInt32.self)
        case .uint64: return try stretched(UInt64.self)
        case .float32: return try stretched(Float.self)
        }
    }
}
