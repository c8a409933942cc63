import Foundation
import EMVolume

/// A z section drawn as an image: raw data with the truth and prediction outlines.
public struct SliceOverlay: Hashable, Codable, Sendable {
    /// Global z index of the section.
    public var z: Int
    /// PNG bytes (base64 in JSON).
    public var png: Data
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// Section voxels per image pixel along y and x (1 when not downsampled).
    public var downsampling: Int
    /// Positive truth voxels in the section.
    public var truthVoxels: Int
    /// Predicted voxels in the section.
    public var predictedVoxels: Int

    /// Creates an overlay record.
    public init(z: Int, png: Data, width: Int, height: Int, downsampling: Int, truthVoxels: Int, predictedVoxels: Int) {
        self.z = z
        self.png = png
        self.width = width
        self.height = height
        self.downsampling = downsampling
        self.truthVoxels = truthVoxels
        self.predictedVoxels = predictedVoxels
    }
}

/// How long an evaluation took and how much it read.
public struct EvaluationPerformance: Hashable, Codable, Sendable {
    /// Wall-clock seconds.
    public var seconds: Double
    /// Voxels evaluated.
    public var voxels: Int
    /// Bytes read from the prediction, truth and mask.
    public var bytesRead: Int
    /// Most bytes of voxel data held at once by the streaming pass (slabs and plane buffers;
    /// not the exact-sweep keys or the CREMI volumes, which are reported in `notes`).
    public var slabBytes: Int

    /// Bytes read per second.
    public var bytesPerSecond: Double { seconds > 0 ? Double(bytesRead) / seconds : 0 }
}

/// The evaluation of one predicted volume against its truth.
public struct VolumeEvaluation: Hashable, Codable, Sendable {
    /// A short name (e.g. the volume's file name).
    public var name: String
    /// Where the prediction came from.
    public var prediction: String
    /// Where the truth came from.
    public var truth: String
    /// Where the mask came from, if any.
    public var mask: String?
    /// The box evaluated (voxels).
    public var region: Box
    /// Nanometres per voxel.
    public var voxelSize: VoxelSize
    /// The options used.
    public var options: EvaluationOptions
    /// Voxel metrics.
    public var voxel: VoxelMetrics
    /// Object metrics, when requested.
    public var objects: ObjectMetrics?
    /// CREMI cleft metrics, when requested and the volume is small enough.
    public var cremi: CremiMetrics?
    /// Section overlays.
    public var overlays: [SliceOverlay]
    /// Remarks (skipped metrics and why, approximations used).
    public var notes: [String]
    /// Time and data read.
    public var performance: EvaluationPerformance
}
