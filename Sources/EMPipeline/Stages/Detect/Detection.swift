import EMLabels
import EMEvaluation
import EMStorage
import EMVolume
import Foundation

/// One detected object and the block that owns it (the block holding its centre).
public struct Detection: Hashable, Codable, Sendable {
    /// Size, world centre (nm), bounding box (voxels) and score.
    public var object: DetectedObject
    /// Mean voxel position z, y, x in voxels.
    public var voxelCentre: [Double]
    /// Id of the block of the pipeline's block grid holding the centre voxel.
    public var block: Int

    /// Creates a detection.
    public init(object: DetectedObject, voxelCentre: [Double], block: Int) {
        self.object = object
        self.voxelCentre = voxelCentre
        self.block = block
    }

    /// The detections of merged component statistics (global voxel coordinates, ordered by
    /// first voxel): objects smaller than `settings.minimumSize` are dropped, the others are
    /// numbered 1, 2, ... in order and given the block of `grid` holding their centre voxel.
    public static func list(_ components: [ComponentStatistics], grid: BlockGrid, placement: VoxelPlacement,
                            settings: DetectionSettings) -> [Detection] {
        var result: [Detection] = []
        for statistics in components where statistics.voxelCount >= settings.minimumSize {
            let object = statistics.object(id: result.count + 1, placement: placement, score: settings.score)
            let c = statistics.centroid
            let centre = Coordinate(Int((c.z + 0.5).rounded(.down)), Int((c.y + 0.5).rounded(.down)), Int((c.x + 0.5).rounded(.down)))
            let inside = Coordinate.minimum(Coordinate.maximum(centre, grid.region.offset), grid.region.end - Coordinate(repeating: 1))
            let index = Coordinate.floorDivide(inside - grid.region.offset, grid.blockShape)
            result.append(Detection(object: object, voxelCentre: [c.z, c.y, c.x], block: grid.block(at: index).id))
        }
        return result
    }
}

/// A file of detections and its format.
public struct DetectionFile: Hashable, Sendable {
    /// The file formats.
    public enum Format: String, Hashable, Sendable {
        /// Comma-separated values with a header row.
        case csv
        /// A JSON object with the settings and a list of detections.
        case json
    }

    /// The format.
    public var format: Format
    /// The file's path.
    public var path: String

    /// The CSV header.
    public static let csvHeader = "id,block,voxels,volume_nm3,score,centre_z_nm,centre_y_nm,centre_x_nm,centre_z,centre_y,centre_x,box_z0,box_y0,box_x0,box_z1,box_y1,box_x1"

    /// Atomically replaces the file with `detections`.
    public func write(_ detections: [Detection], settings: DetectionSettings) throws {
        switch format {
        case .csv:
            var text = Self.csvHeader + "\n"
            for d in detections {
                let o = d.object, b = o.box
                let numbers: [String] = [String(o.id), String(d.block), String(o.voxelCount), Self.number(o.volume), Self.number(o.score),
                                         Self.number(o.centre.z), Self.number(o.centre.y), Self.number(o.centre.x)]
                    + d.voxelCentre.map(Self.number)
                    + [b.offset.z, b.offset.y, b.offset.x, b.end.z, b.end.y, b.end.x].map(String.init)
                text += numbers.joined(separator: ",") + "\n"
            }
            try AtomicFile.write(text, to: path)
        case .json:
            let document = DetectionDocument(threshold: settings.threshold, scoreScale: settings.scale, minimumSize: settings.minimumSize,
                                             score: settings.score.rawValue, connectivity: settings.connectivity.neighbourCount,
                                             count: detections.count, detections: detections)
            try JSONFiles.write(document, to: path)
        }
    }

    /// Reads a JSON file of detections written by `write`.
    public static func readJSON(_ path: String) throws -> [Detection] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.execution("cannot read the detections file '\(path)'")
        }
        return try JSONDecoder().decode(DetectionDocument.self, from: data).detections
    }

    /// Shortest text that reads back to the same double.
    private static func number(_ value: Double) -> String { "\(value)" }
}

/// The JSON file's layout.
private struct DetectionDocument: Codable {
    var threshold: Double
    var scoreScale: Double
    var minimumSize: Int
    var score: String
    var connectivity: Int
    var count: Int
    var detections: [Detection]
}
