import EMVolume

/// The role a voxel plays in an evaluation, decided by its truth label and the mask.
public enum VoxelClass: UInt8, Sendable {
    /// Truth says "not the structure".
    case negative = 0
    /// Truth says "the structure".
    case positive = 1
    /// Left out of every metric: masked out (mask value 0) or labelled invalid.
    case ignored = 2
}

/// How truth label values map to classes.
///
/// A voxel is positive when its label is neither `background` nor `invalid`, negative when it
/// equals `background`, and ignored when it equals `invalid` (or the mask is 0 there). The
/// defaults fit emflow's masks (0 = background, anything else = structure); CREMI cleft volumes
/// use `TruthRule.cremi` (background 0xffff...ff, invalid 0xffff...fe).
public struct TruthRule: Hashable, Codable, Sendable {
    /// Label value of background voxels.
    public var background: UInt64
    /// Label value of voxels to ignore, if any.
    public var invalid: UInt64?

    /// Creates a rule.
    public init(background: UInt64 = 0, invalid: UInt64? = nil) {
        self.background = background
        self.invalid = invalid
    }

    /// The CREMI convention for synaptic clefts: background 2^64-1, invalid 2^64-2.
    public static let cremi = TruthRule(background: .max, invalid: .max - 1)

    /// Writes the class of each voxel of `truth` into `classes`; voxels where `mask` is 0 are
    /// ignored.
    @inlinable
    public func classify<T: FixedWidthInteger, M: FixedWidthInteger>(
        truth: UnsafeBufferPointer<T>, mask: UnsafeBufferPointer<M>?, into classes: UnsafeMutableBufferPointer<UInt8>
    ) {
        precondition(truth.count == classes.count && (mask == nil || mask!.count == truth.count),
                     "truth, mask and class buffers must have the same length")
        let background = self.background
        let invalid = self.invalid ?? background
        for i in 0..<truth.count {
            let value = UInt64(truncatingIfNeeded: truth[i])
            classes[i] = value == background ? VoxelClass.negative.rawValue
                : (value == invalid ? VoxelClass.ignored.rawValue : VoxelClass.positive.rawValue)
        }
        if let mask {
            for i in 0..<mask.count where mask[i] == 0 { classes[i] = VoxelClass.ignored.rawValue }
        }
    }

    /// The classes of a whole truth volume under an optional mask volume of the same box.
    ///
    /// - Throws: `EvaluationError.shapeMismatch` when the mask covers another box.
    public func classify<T: VoxelScalar & FixedWidthInteger, M: VoxelScalar & FixedWidthInteger>(
        truth: Volume<T>, mask: Volume<M>?
    ) throws -> Volume<UInt8> {
        if let mask, mask.box != truth.box {
            throw EvaluationError.shapeMismatch(what: "mask", expected: "truth box \(truth.box)", found: "\(mask.box)")
        }
        return classes(of: truth, mask: mask)
    }

    /// The classes of a truth volume without a mask.
    public func classify<T: VoxelScalar & FixedWidthInteger>(truth: Volume<T>) -> Volume<UInt8> {
        classes(of: truth, mask: Optional<Volume<UInt8>>.none)
    }

    private func classes<T: VoxelScalar & FixedWidthInteger, M: VoxelScalar & FixedWidthInteger>(
        of truth: Volume<T>, mask: Volume<M>?
    ) -> Volume<UInt8> {
        var classes = Volume<UInt8>.zeros(truth.box)
        truth.storage.withUnsafeBufferPointer { t in
            classes.storage.withUnsafeMutableBufferPointer { c in
                if let mask {
                    mask.storage.withUnsafeBufferPointer { classify(truth: t, mask: $0, into: c) }
                } else {
                    classify(truth: t, mask: Optional<UnsafeBufferPointer<UInt8>>.none, into: c)
                }
            }
        }
        return classes
    }
}
