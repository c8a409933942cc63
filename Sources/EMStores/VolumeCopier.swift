import EMProgress
import EMStorage
import EMVolume
import Foundation

/// Copies a region of one store into another in chunk-aligned tiles, in bounded memory, and
/// resumably: each finished tile is recorded in a journal beside the output, so a re-run of an
/// interrupted copy with the same parameters skips the tiles already written.
public struct VolumeCopier {
    /// The region of the source to copy (voxels of the source).
    public let sourceRegion: Box
    /// Shape of the tiles the copy moves at once (a multiple of the destination's chunks).
    public let tileShape: Coordinate
    /// The tiles in destination coordinates, in z, y, x order.
    public let tiles: [Box]

    /// Plans a copy of `sourceRegion` into a destination of that shape with `destinationChunks`,
    /// keeping one tile under `tileBudget` bytes where the chunks allow it.
    public init(sourceRegion: Box, sourceChunks: Coordinate, destinationChunks: Coordinate, elementSize: Int, tileBudget: Int) throws {
        self.sourceRegion = sourceRegion
        let shape = sourceRegion.shape
        let chunks = Coordinate.minimum(destinationChunks, shape)
        // Start from one destination chunk as deep as a source chunk (so each source chunk is
        // decoded about once), then widen to whole rows, whole planes and more sections while
        // the tile stays within budget.
        var tile = chunks
        let depth = Coordinate.ceilDivide(Coordinate(min(sourceChunks.z, shape.z), 1, 1), chunks).z * chunks.z
        if depth * tile.y * tile.x * elementSize <= tileBudget { tile.z = min(depth, shape.z) }
        for axis in [2, 1, 0] {
            while tile[axis] < shape[axis] {
                var grown = tile
                grown[axis] = min(tile[axis] + chunks[axis], shape[axis])
                if grown.product * elementSize > tileBudget { break }
                tile = grown
            }
        }
        self.tileShape = tile
        self.tiles = try BlockGrid(region: Box(shape: shape), blockShape: tile, fit: .shrink).blocks.map(\.writeBox)
    }

    /// Copies every tile not yet recorded in `journal`, recording each when written.
    public func run(from source: VolumeStore, to destination: VolumeStore, journal: CopyJournal?, progress: ProgressReporter?) throws {
        let elementSize = source.metadata.dataType.size
        var buffer = [UInt8](repeating: 0, count: tileShape.product * elementSize)
        if journal?.isComplete == true { return }
        let done = journal?.finishedTiles ?? []
        if !done.isEmpty { progress?.advance(done.count) }
        for (index, tile) in tiles.enumerated() where !done.contains(index) {
            let bytes = tile.voxelCount * elementSize
            try buffer.withUnsafeMutableBytes { raw in
                let part = UnsafeMutableRawBufferPointer(rebasing: raw[0..<bytes])
                try source.readBytes(tile.translated(by: sourceRegion.offset), into: part, outside: .error)
                try destination.writeBytes(tile, from: UnsafeRawBufferPointer(part))
            }
            try journal?.markFinished(index)
            progress?.advance(1, bytes: bytes)
        }
        try destination.flush()
        try journal?.markComplete()
    }
}

/// The record of a copy: which tiles of which copy are finished, and whether all are.
///
/// Kept as a small JSON file beside the output and replaced atomically after each tile. The
/// fingerprint identifies the copy (source, region, destination layout): a journal with another
/// fingerprint belongs to a different copy and is never resumed from. A complete journal stays,
/// so that running the same copy again is recognised as already done.
public final class CopyJournal: @unchecked Sendable {
    /// Where the journal lives.
    public let path: String
    /// Identifies the copy this journal belongs to.
    public let fingerprint: String
    /// The command that writes the output, as a user would run it again to finish it.
    public let command: String?
    /// Indices of the tiles already written.
    public private(set) var finishedTiles: Set<Int>
    /// True once every tile was written and the destination flushed.
    public private(set) var isComplete = false
    private let lock = NSLock()

    private struct Record: Codable {
        var fingerprint: String
        var finished: [Int]
        var complete: Bool
        var command: String?
    }

    /// Starts a new, empty journal (written at once, so that an interrupted copy is recognisable).
    public init(creatingAt path: String, fingerprint: String, command: String? = nil) throws {
        self.path = path
        self.fingerprint = fingerprint
        self.command = command
        self.finishedTiles = []
        try save()
    }

    /// Loads the journal at `path`, or returns nil when there is none.
    public static func load(at path: String) throws -> CopyJournal? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let record = try? JSONDecoder().decode(Record.self, from: data) else {
            throw StorageError.malformedMetadata(path: path, key: "fingerprint", expected: "an emflow copy journal (JSON with fingerprint and finished)")
        }
        return CopyJournal(path: path, record: record)
    }

    /// Removes the journal at `path` (if any), before the output it describes is replaced:
    /// a copy killed while replacing it must not find the old journal calling it complete.
    public static func invalidate(at path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StorageError.unwritable(path: path, reason: "cannot remove the old copy journal: \(String(cString: strerror(errno)))")
        }
    }

    private init(path: String, record: Record) {
        self.path = path
        self.fingerprint = record.fingerprint
        self.command = record.command
        self.finishedTiles = Set(record.finished)
        self.isComplete = record.complete
    }

    /// Records tile `index` as written (from any thread).
    public func markFinished(_ index: Int) throws {
        lock.lock()
        defer { lock.unlock() }
        finishedTiles.insert(index)
        try save()
    }

    /// Records that the copy is complete.
    public func markComplete() throws {
        lock.lock()
        defer { lock.unlock() }
        isComplete = true
        finishedTiles = []
        try save()
    }

    private func save() throws {
        let record = Record(fingerprint: fingerprint, finished: finishedTiles.sorted(), complete: isComplete, command: command)
        try JSONFiles.write(record, to: path, pretty: false)
    }
}
