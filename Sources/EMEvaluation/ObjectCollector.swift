import EMLabels
import EMVolume

/// Predicted and true objects of a volume, and how many voxels each pair shares.
public struct CollectedObjects: Sendable {
    /// Connected components of the thresholded prediction (before any size filter).
    public var predictions: [DetectedObject]
    /// Connected components of the positive truth voxels.
    public var truths: [DetectedObject]
    /// Shared voxels per (prediction index, truth index) pair that overlap at all.
    public var overlaps: [ObjectPair: Int]
}

/// A (prediction, truth) pair of indices into object lists.
public struct ObjectPair: Hashable, Codable, Sendable {
    /// Index into the predictions.
    public var prediction: Int
    /// Index into the truths.
    public var truth: Int

    /// Creates a pair.
    public init(prediction: Int, truth: Int) {
        self.prediction = prediction
        self.truth = truth
    }
}

/// Finds predicted objects (components of voxels with score >= threshold that are not
/// ignored) and true objects (components of positive voxels) plane by plane, and counts their
/// overlaps, in memory proportional to one plane and the number of objects.
public struct ObjectCollector: Sendable {
    private var predicted: ComponentLabeler
    private var truth: ComponentLabeler
    private var overlaps: [UInt64: Int] = [:]
    private var predictedForeground: [Bool]
    private var truthForeground: [Bool]
    /// Where the first plane sits.
    public let placement: VoxelPlacement

    /// Creates a collector for planes of `planeShape` (y, x) voxels.
    public init(planeShape: (y: Int, x: Int), connectivity: Connectivity, placement: VoxelPlacement) {
        predicted = ComponentLabeler(planeShape: planeShape, connectivity: connectivity)
        truth = ComponentLabeler(planeShape: planeShape, connectivity: connectivity)
        predictedForeground = [Bool](repeating: false, count: planeShape.y * planeShape.x)
        truthForeground = predictedForeground
        self.placement = placement
    }

    /// Adds the next z plane: scores, classes, and the decision key of the threshold
    /// (`ScoreValue.thresholdKey`).
    public mutating func addPlane<S: ScoreValue>(scores: UnsafeBufferPointer<S>, classes: UnsafeBufferPointer<UInt8>,
                                                 thresholdKey: UInt64, scale: Double) {
        let n = predictedForeground.count
        precondition(scores.count == n && classes.count == n, "plane buffers must hold \(n) voxels")
        predictedForeground.withUnsafeMutableBufferPointer { p in
            truthForeground.withUnsafeMutableBufferPointer { t in
                for i in 0..<n {
                    let c = classes[i]
                    p[i] = c != VoxelClass.ignored.rawValue && UInt64(scores[i].orderKey) >= thresholdKey
                    t[i] = c == VoxelClass.positive.rawValue
                }
            }
        }
        predictedForeground.withUnsafeBufferPointer { predicted.addPlane(foreground: $0, scores: scores, scale: scale) }
        truthForeground.withUnsafeBufferPointer { truth.addPlane(foreground: $0, scores: Optional<UnsafeBufferPointer<S>>.none, scale: 0) }
        let p = predicted.current, t = truth.current
        var lastKey: UInt64 = 0, run = 0
        for i in 0..<n where p[i] != 0 && t[i] != 0 {
            let key = UInt64(UInt32(p[i])) << 32 | UInt64(UInt32(t[i]))
            if key == lastKey { run += 1; continue }
            if run > 0 { overlaps[lastKey, default: 0] += run }
            lastKey = key
            run = 1
        }
        if run > 0 { overlaps[lastKey, default: 0] += run }
    }

    /// The objects found, with object scores by `score`.
    public mutating func finish(score: ObjectScore) -> CollectedObjects {
        let predictions = Self.objects(of: &predicted, placement: placement, score: score)
        let truths = Self.objects(of: &truth, placement: placement, score: score)
        let (_, predictedIndex) = predicted.resolve()
        let (_, truthIndex) = truth.resolve()
        var pairs: [ObjectPair: Int] = [:]
        for (key, count) in overlaps {
            let pair = ObjectPair(prediction: Int(predictedIndex[Int(key >> 32)]), truth: Int(truthIndex[Int(key & 0xFFFF_FFFF)]))
            pairs[pair, default: 0] += count
        }
        return CollectedObjects(predictions: predictions, truths: truths, overlaps: pairs)
    }

    private static func objects(of labeler: inout ComponentLabeler, placement: VoxelPlacement, score: ObjectScore) -> [DetectedObject] {
        let (roots, _) = labeler.resolve()
        return roots.enumerated().map { index, root in
            labeler.statistics[Int(root)].object(id: index + 1, placement: placement, score: score)
        }
    }
}

/// Connected components of in-memory volumes.
public enum ConnectedComponents {
    /// Labels the components of the nonzero voxels of `mask`: a label volume (0 = background,
    /// 1... in the order of each component's first voxel) and the components' statistics
    /// (placed at `mask.box.offset`; the score of every object is 0).
    public static func label(_ mask: Volume<UInt8>, connectivity: Connectivity,
                             voxelSize: VoxelSize = .unit, origin: WorldPoint = .zero) -> (labels: Volume<UInt32>, objects: [DetectedObject]) {
        let labelled = LabelledComponents(mask, connectivity: connectivity)
        let placement = VoxelPlacement(offset: .zero, voxelSize: voxelSize, origin: origin)
        let objects = labelled.components.enumerated().map { index, statistics in
            var object = statistics.object(id: index + 1, placement: placement, score: .maximum)
            object.score = 0
            return object
        }
        return (labelled.labels, objects)
    }
}
