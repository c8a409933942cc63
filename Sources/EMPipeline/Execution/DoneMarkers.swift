import EMStorage
import EMVolume
import Foundation

/// Done markers of one stage over one block layout: a small file per finished block, in a
/// directory named after the stage and a fingerprint of its resolved configuration, its
/// inputs, its model and the block layout. A changed configuration has another fingerprint,
/// so its blocks are never taken for finished; the markers of other fingerprints are removed
/// when a new configuration starts.
final class DoneMarkers: @unchecked Sendable {
    /// The directory of this configuration's markers.
    let directory: String

    private init(directory: String) {
        self.directory = directory
    }

    private static func directory(root: String, stage: String, fingerprint: String) -> String {
        root + "/" + stage + "-" + fingerprint
    }

    /// The markers an earlier run of the same configuration left, nil when there are none.
    static func existing(root: String, stage: String, fingerprint: String) -> DoneMarkers? {
        let path = directory(root: root, stage: stage, fingerprint: fingerprint)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return DoneMarkers(directory: path)
    }

    /// Starts a fresh set of markers: removes the stage's markers of other configurations and
    /// creates an empty directory for this one.
    static func start(root: String, stage: String, fingerprint: String) throws -> DoneMarkers {
        let path = directory(root: root, stage: stage, fingerprint: fingerprint)
        removeOthers(in: root, stage: stage, keeping: fingerprint)
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw StorageError.unwritable(path: path, reason: "cannot create the done-marker directory (\(error.localizedDescription))") }
        return DoneMarkers(directory: path)
    }

    /// Removes `root/stage-FINGERPRINT` directories of fingerprints other than `fingerprint`
    /// (markers or intermediate results of an earlier configuration).
    static func removeOthers(in root: String, stage: String, keeping fingerprint: String) {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(stage + "-") {
            let suffix = name.dropFirst(stage.count + 1)
            guard suffix.count == Fingerprint.length, suffix.allSatisfy(\.isHexDigit), suffix != fingerprint else { continue }
            try? manager.removeItem(atPath: root + "/" + name)
        }
    }

    /// Removes every `root/stage-FINGERPRINT` directory: before an output is started afresh,
    /// no marker may survive that calls one of its blocks done.
    static func removeAll(in root: String, stage: String) {
        removeOthers(in: root, stage: stage, keeping: "")
    }

    /// Ids of the blocks marked done.
    func finished() -> Set<Int> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(names.compactMap { $0.hasPrefix(AtomicFile.temporaryPrefix) ? nil : Int($0) })
    }

    /// Marks `block` done (atomically: a marker is whole or absent).
    func markDone(_ block: Block) throws {
        try AtomicFile.write("\(block.writeBox)\n", to: directory + "/\(block.id)", createDirectories: false)
    }
}
