import EMHDF5
import EMStorage
import EMTIFF
import EMVolume
import EMZarr
import Foundation

/// Opens and creates volume stores of any format from their address.
public enum Stores {
    /// Opens an existing volume for reading (and, where the format needs to know, writing).
    public static func open(_ address: StoreAddress, writable: Bool = false) throws -> VolumeStore {
        guard address.selection.isEmpty || address.format == .tiff else {
            throw StorageError.badAddress(address: address.description, expected: "a volume with channels or time points for \(address.selection.suffix): emflow chooses them in OME-TIFF and ImageJ hyperstacks; this \(address.format.rawValue) volume has z, y, x axes: drop \(address.selection.suffix)")
        }
        let store: VolumeStore
        switch address.format {
        case .zarr: store = try ZarrStore.open(address)
        case .hdf5: store = try HDF5Store.open(address, writable: writable)
        case .tiff: store = try TIFFStore.open(address)
        }
        try VolumeSizes.checkVolume(store.metadata.shape, elementSize: store.metadata.dataType.size, at: address.description)
        return store
    }

    /// Parses `address` and opens the volume there.
    public static func open(_ address: String, writable: Bool = false) throws -> VolumeStore {
        try open(StoreAddress.parse(address), writable: writable)
    }

    /// Creates a new volume; an existing one is replaced only when `overwrite` is true.
    public static func create(_ address: StoreAddress, spec: VolumeSpec, overwrite: Bool = false,
                              zarr: ZarrOptions = ZarrOptions()) throws -> VolumeStore {
        try spec.validate(for: address.description)
        guard address.selection.isEmpty else {
            throw StorageError.badAddress(address: address.description, expected: "an output address without a channel selection (emflow writes z, y, x volumes): drop \(address.selection.suffix)")
        }
        switch address.format {
        case .zarr: return try ZarrStore.create(address, spec: spec, options: zarr, overwrite: overwrite)
        case .hdf5: return try HDF5Store.create(address, spec: spec, overwrite: overwrite)
        case .tiff: return try TIFFStore.create(address, spec: spec, overwrite: overwrite)
        }
    }

    /// True when a volume exists at `address` (it may still be unreadable).
    public static func exists(_ address: StoreAddress) -> Bool {
        (try? open(address)) != nil
    }

    /// Opens the volume at `address` for reading, refusing one that its writer has not finished
    /// (`incompleteness`): reading it would give fill values where blocks are missing.
    ///
    /// - Throws: `StorageError.incomplete` naming the volume and how to finish it.
    public static func openComplete(_ address: StoreAddress) throws -> VolumeStore {
        let store = try open(address)
        if let reason = incompleteness(of: address) { throw StorageError.incomplete(address: address.description, reason: reason) }
        return store
    }

    /// Parses `address` and opens the volume there, refusing an unfinished one.
    public static func openComplete(_ address: String) throws -> VolumeStore {
        try openComplete(StoreAddress.parse(address))
    }

    /// Why the volume at `address` must not be read as finished, or nil when nothing says so:
    /// a copy journal of an interrupted `emflow convert` or `generate`, or the provenance of an
    /// emflow run that has not finished writing it (`complete: false`). Commands that read
    /// inputs refuse such volumes with this text, which names the volume and how to finish it.
    public static func incompleteness(of address: StoreAddress) -> String? {
        let journalPath = sidecarPath(for: address, name: "convert.json")
        if let journal = try? CopyJournal.load(at: journalPath), !journal.isComplete {
            let command = journal.command.map { "`\($0)`" } ?? "convert"
            return "written by an interrupted \(command) (\(journal.finishedTiles.count) tiles done, journal \(journalPath)); run the same command again to finish it"
        }
        let provenancePath = sidecarPath(for: address, name: "provenance.json")
        if let data = FileManager.default.contents(atPath: provenancePath),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["complete"] as? Bool == false {
            let pipeline = ((object["pipeline"] as? [String: Any])?["file"] as? String).map { " \($0)" } ?? ""
            return "the emflow run of pipeline\(pipeline) that writes it has not finished (\(provenancePath) says complete: false); run that pipeline again to finish it"
        }
        return nil
    }

    /// A fingerprint of the state of the stored volume: changes when it is rewritten (another
    /// seed at the same path), so that finished blocks computed from the old content are not
    /// taken for done. Cheap enough to compute on every run:
    /// - Zarr: name, size and modification time of every file of the array (emflow's own
    ///   `.emflow-*` bookkeeping left out);
    /// - TIFF: size and modification time of every file of the stack;
    /// - HDF5: the metadata, the bytes the dataset takes in its file and the content of up to
    ///   8 chunks spread over the volume (the file's own size and time change whenever any
    ///   dataset in it is written, emflow's outputs included, so they cannot be used).
    /// An unreadable store gives a fingerprint of the error, so that it never matches a good one.
    public static func contentState(of address: StoreAddress) -> String {
        do {
            let store = try open(address)
            var text = "\(store.metadata)"
            switch address.format {
            case .zarr:
                text += ZarrStore.fileState(of: address)
            case .tiff:
                for file in (store as? TIFFStore)?.files ?? [address.path] { text += "|" + fileState(file) }
            case .hdf5:
                text += "|stored=\((try (store as? HDF5Store)?.datasetStorageBytes()) ?? 0)" + (try sampledChunks(of: store))
            }
            return Fingerprint.of(text)
        } catch {
            return Fingerprint.of("unreadable|\(error)")
        }
    }

    private static func fileState(_ path: String) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { return "missing" }
        return "\(status.st_size)@\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }

    /// Fingerprints of up to 8 chunks at fixed places of the volume (corners and centre).
    private static func sampledChunks(of store: VolumeStore) throws -> String {
        let grid = store.chunkGrid
        let last = grid.gridShape - Coordinate(1, 1, 1)
        var picks: Set<Coordinate> = []
        for corner in 0..<7 {
            let pick = Coordinate(corner & 1 == 0 ? 0 : last.z, corner & 2 == 0 ? 0 : last.y, corner & 4 == 0 ? 0 : last.x)
            picks.insert(pick)
        }
        picks.insert(Coordinate(last.z / 2, last.y / 2, last.x / 2))
        var text = ""
        for pick in picks.sorted(by: { $0.components.lexicographicallyPrecedes($1.components) }) {
            let box = grid.box(ofChunk: pick)
            var bytes = [UInt8](repeating: 0, count: box.voxelCount * store.metadata.dataType.size)
            try bytes.withUnsafeMutableBytes { try store.readBytes(box, into: $0, outside: .error) }
            text += "|\(pick)=" + Fingerprint.of(bytes: bytes)
        }
        return text
    }

    /// A path beside the volume at `address` for emflow's own bookkeeping (journals, done
    /// markers), named after `name`. Other tools ignore it: inside a Zarr array's directory, or
    /// next to an HDF5 file or TIFF stack.
    public static func sidecarPath(for address: StoreAddress, name: String) -> String {
        switch address.format {
        case .zarr:
            return (address.key.isEmpty ? address.path : address.path + "/" + address.key) + "/.emflow-" + name
        case .hdf5:
            return address.path + "." + address.key.replacingOccurrences(of: "/", with: "_") + ".emflow-" + name
        case .tiff:
            let url = URL(fileURLWithPath: address.path)
            return url.lastPathComponent.contains("*")
                ? url.deletingLastPathComponent().path + "/.emflow-" + name
                : address.path + ".emflow-" + name
        }
    }
}
