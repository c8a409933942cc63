import EMLabels
import EMVolume

/// Summary of a set of distances (numpy's conventions: population standard deviation, median
/// of an even count is the mean of the two middle values).
public struct DistanceStatistics: Hashable, Codable, Sendable {
    /// Number of voxels measured.
    public var count: Int
    /// Mean distance (nm).
    public var mean: Double
    /// Standard deviation (nm).
    public var standardDeviation: Double
    /// Largest distance (nm).
    public var maximum: Double
    /// Median distance (nm).
    public var median: Double

    /// The statistics of `distances`. No distances: all zero (nothing is far away). Infinite
    /// distances (nothing to measure against): mean, maximum and median infinite, deviation 0.
    init(_ distances: [Double]) {
        count = distances.count
        guard !distances.isEmpty else {
            mean = 0; standardDeviation = 0; maximum = 0; median = 0
            return
        }
        let sorted = distances.sorted()
        maximum = sorted[sorted.count - 1]
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        guard maximum.isFinite else {
            mean = .infinity; standardDeviation = 0
            return
        }
        let m = sorted.reduce(0, +) / Double(count)
        mean = m
        standardDeviation = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(count)).squareRoot()
    }
}

/// Options of the CREMI synaptic-cleft metrics.
public struct CremiOptions: Hashable, Codable, Sendable {
    /// Distance beyond which a voxel counts as a false positive or negative (nm).
    public var distanceThreshold: Double
    /// Largest volume (voxels) evaluated; the distance transforms need 8 bytes per voxel and
    /// the whole volume at once, so larger volumes skip these metrics (with a note).
    public var maximumVoxels: Int

    /// Creates options (CREMI's 200 nm; at most 2^27 voxels, 1 GiB of distances).
    public init(distanceThreshold: Double = 200, maximumVoxels: Int = 1 << 27) {
        self.distanceThreshold = distanceThreshold
        self.maximumVoxels = maximumVoxels
    }
}

/// The CREMI synaptic-cleft metrics (cremi_python's `Clefts`), with anisotropic distances in nm.
///
/// Definitions, as in cremi_python: voxels whose truth is invalid are background on both sides
/// (emflow also treats masked-out voxels so). With `dT` the distance of a voxel to the nearest
/// true cleft voxel and `dP` to the nearest predicted one:
/// - false positives: predicted voxels with `dT > threshold`;
/// - false negatives: true voxels with `dP > threshold`;
/// - ADF (average distance of found voxels): mean `dT` over predicted voxels;
/// - ADGT (average distance of ground-truth voxels): mean `dP` over true voxels;
/// - the CREMI score: (ADGT + ADF) / 2.
///
/// Empty sides (cremi_python yields NaN or scipy's ill-defined transform there): with no
/// predicted voxels ADF is 0 and, if there is truth, ADGT is infinite and every true voxel is a
/// false negative; symmetrically with no true voxels. Both empty: everything 0.
public struct CremiMetrics: Hashable, Codable, Sendable {
    /// The false positive / negative distance (nm).
    public var distanceThreshold: Double
    /// Predicted cleft voxels farther than the threshold from any true cleft voxel.
    public var falsePositives: Int
    /// True cleft voxels farther than the threshold from any predicted cleft voxel.
    public var falseNegatives: Int
    /// Average distance of true voxels to the prediction (nm).
    public var adgt: Double
    /// Average distance of predicted voxels to the truth (nm).
    public var adf: Double
    /// (ADGT + ADF) / 2, the CREMI cleft score (nm, lower is better).
    public var mean: Double
    /// Distances of the predicted voxels to the truth (cremi_python's `acc_false_positives`).
    public var predictedDistances: DistanceStatistics
    /// Distances of the true voxels to the prediction (cremi_python's `acc_false_negatives`).
    public var truthDistances: DistanceStatistics

    /// The metrics of a predicted cleft mask (nonzero = cleft) against truth classes.
    ///
    /// - Throws: `EvaluationError.shapeMismatch` when the boxes differ.
    public init(predicted: Volume<UInt8>, classes: Volume<UInt8>, voxelSize: VoxelSize, options: CremiOptions = CremiOptions()) throws {
        guard predicted.box == classes.box else {
            throw EvaluationError.shapeMismatch(what: "truth", expected: "prediction box \(predicted.box)", found: "\(classes.box)")
        }
        let ignored = VoxelClass.ignored.rawValue, positive = VoxelClass.positive.rawValue
        let predictedForeground = zip(predicted.storage, classes.storage).map { $0 != 0 && $1 != ignored }
        let truthForeground = classes.storage.map { $0 == positive }
        let predictedToTruth = Self.distances(of: predictedForeground, to: truthForeground, shape: classes.shape, voxelSize: voxelSize)
        let truthToPrediction = Self.distances(of: truthForeground, to: predictedForeground, shape: classes.shape, voxelSize: voxelSize)
        distanceThreshold = options.distanceThreshold
        falsePositives = predictedToTruth.count { $0 > options.distanceThreshold }
        falseNegatives = truthToPrediction.count { $0 > options.distanceThreshold }
        predictedDistances = DistanceStatistics(predictedToTruth)
        truthDistances = DistanceStatistics(truthToPrediction)
        adf = predictedDistances.mean
        adgt = truthDistances.mean
        mean = (adgt + adf) / 2
    }

    /// Distances (nm) from each voxel where `from` holds to the nearest voxel where `to` holds.
    private static func distances(of from: [Bool], to: [Bool], shape: Coordinate, voxelSize: VoxelSize) -> [Double] {
        let map = DistanceMap(foreground: to, shape: shape, voxelSize: voxelSize)
        var result: [Double] = []
        for i in from.indices where from[i] { result.append(map.distance(at: i)) }
        return result
    }
}
