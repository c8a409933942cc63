import Foundation

/// The evaluations of one model or run over one or more volumes.
public struct RunEvaluation: Hashable, Codable, Sendable {
    /// Name of the model or run (the legend entry in plots).
    public var name: String
    /// One evaluation per volume.
    public var volumes: [VolumeEvaluation]

    /// Creates a run.
    public init(name: String, volumes: [VolumeEvaluation]) {
        self.name = name
        self.volumes = volumes
    }

    /// Voxel counts summed over the volumes (at each volume's threshold).
    public var pooledVoxelCounts: ConfusionCounts { volumes.map(\.voxel.counts).reduce(ConfusionCounts(), +) }

    /// Object counts summed over the volumes that have object metrics.
    public var pooledObjectCounts: ConfusionCounts? {
        let counts = volumes.compactMap(\.objects?.counts)
        return counts.isEmpty ? nil : counts.reduce(ConfusionCounts(), +)
    }

    /// Mean of the volumes' average precision.
    public var meanAveragePrecision: Double? { mean(volumes.map(\.voxel.curve.averagePrecision)) }

    /// Mean of the volumes' ROC-AUC (volumes where it is defined).
    public var meanROCAUC: Double? { mean(volumes.compactMap(\.voxel.curve.rocAUC)) }

    /// Mean of the volumes' object average precision.
    public var meanObjectAveragePrecision: Double? { mean(volumes.compactMap(\.objects?.curve.averagePrecision)) }

    /// Mean of the volumes' CREMI score ((ADGT + ADF) / 2).
    public var meanCremiScore: Double? { mean(volumes.compactMap(\.cremi?.mean)) }

    private func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}

/// An evaluation report: one or more runs (models) evaluated on volumes. Written as JSON,
/// Markdown and a self-contained HTML page by `ReportWriter`.
public struct EvaluationReport: Hashable, Codable, Sendable {
    /// Version of this JSON layout.
    public var formatVersion: Int
    /// Title of the report.
    public var title: String
    /// When the report was made.
    public var created: Date
    /// The runs compared.
    public var runs: [RunEvaluation]

    /// Creates a report.
    public init(title: String, created: Date = Date(), runs: [RunEvaluation]) {
        self.formatVersion = 1
        self.title = title
        self.created = created
        self.runs = runs
    }

    /// Names of all volumes in the order they first appear.
    public var volumeNames: [String] {
        var seen = Set<String>(), names: [String] = []
        for run in runs { for volume in run.volumes where seen.insert(volume.name).inserted { names.append(volume.name) } }
        return names
    }

    /// One report holding the runs of several (for `emflow report RUN...`): runs keep their
    /// names, made unique with a suffix (" (2)", ...) where they repeat.
    public static func compare(_ reports: [EvaluationReport], title: String = "Comparison") -> EvaluationReport {
        var runs: [RunEvaluation] = []
        var used = Set<String>()
        for run in reports.flatMap(\.runs) {
            var copy = run
            var suffix = 1
            while used.contains(copy.name) {
                suffix += 1
                copy.name = "\(run.name) (\(suffix))"
            }
            used.insert(copy.name)
            runs.append(copy)
        }
        return EvaluationReport(title: title, created: reports.map(\.created).max() ?? Date(), runs: runs)
    }
}
