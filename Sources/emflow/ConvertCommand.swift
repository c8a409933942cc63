import ArgumentParser
import EMProgress
import EMStorage
import EMStores
import EMVolume
import EMZarr
import Foundation

/// `emflow convert IN OUT`: a streaming copy between any two formats in bounded memory.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a volume between formats, chunkings and codecs, streaming in bounded memory.",
        discussion: """
        The copy moves chunk-aligned tiles of at most --memory-mb / 4 bytes. Each finished tile is \
        recorded in a journal beside the output (.emflow-convert.json): if the copy is interrupted \
        (error, Ctrl-C, kill), running the same command again resumes it, and once complete it \
        does nothing; a different command refuses to touch an existing output unless --overwrite \
        is given.

        Examples:
          emflow convert data.h5:volumes/raw out.zarr/raw --chunks 64,256,256
          emflow convert out.zarr/raw crop.tif --roi 0:10,0:512,0:512 --codec raw
          emflow convert data.h5:volumes/raw v3.zarr/raw --zarr-version 3 \\
              --codec blosc-zstd
        """
    )

    @Argument(help: "Input address, e.g. data.h5:volumes/raw.")
    var input: String

    @Argument(help: "Output address, e.g. out.zarr/raw, out.h5:volumes/raw or 'slices/*.tif'.")
    var output: String

    @Option(help: "Output chunk shape z,y,x (default: the input's chunks, capped at 64,256,256; TIFF is always written in whole sections).")
    var chunks: Coordinate?

    @Option(help: "Output codec: \(Codec.commandLineNames.joined(separator: ", ")) (default: zstd for Zarr, gzip for HDF5, raw for TIFF, so that h5py, tifffile and ImageJ open the output without plugins).",
            completion: CodecName.completion, transform: CodecName.named)
    var codec: CodecName?

    @Option(help: "Codec level (zstd 1-22, gzip/zlib 1-9, blosc 1-9).")
    var level: Int?

    @Option(help: "Region of the input to copy, z0:z1,y0:y1,x0:x1 (voxels, half-open).")
    var roi: String?

    @Option(name: .customLong("zarr-version"), help: "Zarr format of a Zarr output: 2 or 3.")
    var zarrVersion: Int = ZarrOptions().version

    @Option(name: .customLong("memory-mb"), help: "Memory budget for the copy in MiB.")
    var memoryMB: Int = 512

    @Flag(help: "Replace an existing output.")
    var overwrite = false

    /// The codec an output of `format` gets when --codec is not given: one its usual readers
    /// open as installed (HDF5 has no zstd without a plugin; most TIFF readers no zstd).
    static func defaultCodec(for format: StoreAddress.Format) -> String {
        switch format {
        case .zarr: return "zstd"
        case .hdf5: return "gzip"
        case .tiff: return "raw"
        }
    }

    func validate() throws {
        guard memoryMB >= 16 else { throw ValidationError("--memory-mb must be at least 16 (got \(memoryMB))") }
        guard zarrVersion == 2 || zarrVersion == 3 else { throw ValidationError("--zarr-version must be 2 or 3 (got \(zarrVersion))") }
    }

    func run() throws {
        let sourceAddress = try StoreAddress.parse(input)
        let destinationAddress = try StoreAddress.parse(output)
        let (inputIdentity, outputIdentity) = (StoreIdentity(sourceAddress), StoreIdentity(destinationAddress))
        if inputIdentity.overlaps(outputIdentity) {
            let relation = inputIdentity == outputIdentity ? "is the input itself" : "overlaps the input"
            throw StorageError.unwritable(path: output, reason: "the output \(relation) '\(input)' (both at \(outputIdentity)): writing it would destroy the input; choose another output")
        }
        let source = try Stores.open(sourceAddress)
        let m = source.metadata
        let region = try roi.map { try Box.parse($0) } ?? m.bounds
        guard m.bounds.contains(region) else {
            throw StorageError.outsideVolume(address: "--roi \(roi ?? "")", box: region.description, shape: m.shape.description)
        }
        var chunkShape = chunks ?? Coordinate.minimum(m.chunkShape, Coordinate(64, 256, 256))
        guard Coordinate.all(chunkShape, .zero, >) else { throw ValidationError("--chunks must be positive on every axis (got \(chunkShape))") }
        chunkShape = Coordinate.minimum(chunkShape, region.shape)
        // TIFF is written in whole sections: a tile narrower than a section could never be stored.
        if destinationAddress.format == .tiff { chunkShape = Coordinate(1, region.shape.y, region.shape.x) }
        let spec = VolumeSpec(shape: region.shape, dataType: m.dataType, chunkShape: chunkShape, voxelSize: m.voxelSize,
                              origin: m.voxelSize.world(region.offset, origin: m.origin),
                              codec: try (codec ?? CodecName(Self.defaultCodec(for: destinationAddress.format))).codec(level: level), fillValue: m.fillValue)

        let lock = try OutputLock.acquire(destinationAddress)
        defer { withExtendedLifetime(lock) {} }
        let journalPath = Stores.sidecarPath(for: destinationAddress, name: "convert.json")
        let fingerprint = Fingerprint.of("\(source.address)|\(m)|\(region)|\(spec)|zarr\(zarrVersion)")
        let destination: VolumeStore
        let journal: CopyJournal
        if let previous = try CopyJournal.load(at: journalPath), previous.fingerprint == fingerprint, !overwrite {
            if previous.isComplete {
                print("\(destinationAddress) is already complete (same input and parameters); nothing to do")
                return
            }
            destination = try Stores.open(destinationAddress, writable: true)
            journal = previous
            FileHandle.standardError.write(Data("resuming an interrupted convert: \(previous.finishedTiles.count) tiles already written\n".utf8))
        } else {
            // An old journal would call the old content complete: it goes before the content does.
            if overwrite { try CopyJournal.invalidate(at: journalPath) }
            destination = try Stores.create(destinationAddress, spec: spec, overwrite: overwrite,
                                            zarr: ZarrOptions(version: zarrVersion))
            journal = try CopyJournal(creatingAt: journalPath, fingerprint: fingerprint)
        }

        let copier = try VolumeCopier(sourceRegion: region, sourceChunks: m.chunkShape, destinationChunks: chunkShape,
                                      elementSize: m.dataType.size, tileBudget: memoryMB << 18)
        let progress = ProgressReporter(label: "convert", total: copier.tiles.count, unit: "tiles", sink: ProgressReporter.automaticSink)
        let start = Date()
        do {
            try copier.run(from: source, to: destination, journal: journal, progress: progress)
        } catch {
            let advice = (error as? StorageError)?.isPersistent == true
                ? "the same command would stop here again: fix what the message names first (tiles already written are kept)"
                : "tiles already written are kept; run the same command again to resume, or add --overwrite to start over"
            throw StorageError.io(path: destinationAddress.description, reason: "convert stopped: \(error). \(advice.prefix(1).uppercased() + advice.dropFirst())")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        let bytes = region.voxelCount * m.dataType.size
        print(String(format: "wrote %@ (%@ uncompressed, %@ on disk) in %.1f s, %.1f MB/s",
                     destinationAddress.description, formatBytes(bytes), formatBytes(Int(try destination.bytesOnDisk())),
                     seconds, Double(bytes) / max(seconds, 1e-9) / 1e6))
    }
}
