import ArgumentParser
import EMProgress
import EMStorage
import EMStores
import EMSynthetic
import EMVolume
import EMZarr
import Foundation

/// `emflow generate OUT --shape z,y,x`: a synthetic EM-like volume with ground-truth labels.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a synthetic EM-like volume with synapse, mitochondria and membrane labels.",
        discussion: """
        OUT is a Zarr hierarchy (out.zarr) or an HDF5 file (out.h5). The volume is written in the \
        CREMI layout: volumes/raw (uint8) and volumes/labels/{synapse,mitochondria,membrane} \
        (uint8 masks). The same seed gives the same bytes, whatever the size of the blocks.

        Examples:
          emflow generate demo.zarr
          emflow generate demo.h5 --shape 64,512,512 --seed 7
        """
    )

    @Argument(help: "Output container: out.zarr or out.h5.")
    var output: String

    @Option(help: "Volume shape z,y,x in voxels.")
    var shape = Coordinate(32, 256, 256)

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(name: .customLong("voxel-size"), help: "Voxel size z,y,x in nm.")
    var voxelSize: String = "40,4,4"

    @Option(help: "Chunk shape z,y,x.")
    var chunks = Coordinate(16, 256, 256)

    @Option(help: "Chunk codec: \(Codec.commandLineNames.joined(separator: ", ")) (default: zstd; HDF5 writes gzip for zstd).", completion: CodecName.completion, transform: CodecName.named)
    var codec = CodecName("zstd")

    @Flag(help: "Skip the label volumes (raw only).")
    var rawOnly = false

    @Flag(help: "Replace existing volumes.")
    var overwrite = false

    func run() throws {
        let volumeShape = shape
        guard Coordinate.all(volumeShape, .zero, >) else { throw ValidationError("--shape must be positive (got \(volumeShape))") }
        let sizes = voxelSize.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard sizes.count == 3, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--voxel-size must be three positive numbers z,y,x in nm (got '\(voxelSize)')")
        }
        let voxel = VoxelSize(sizes[0], sizes[1], sizes[2])
        let chunkShape = Coordinate.minimum(chunks, volumeShape)
        let lower = output.lowercased()
        let isHDF5 = [".h5", ".hdf5", ".hdf"].contains { lower.hasSuffix($0) }
        func address(_ key: String) -> StoreAddress {
            StoreAddress(format: isHDF5 ? .hdf5 : .zarr, path: output, key: key)
        }
        guard isHDF5 || lower.hasSuffix(".zarr") else {
            throw ValidationError("OUT must end in .zarr or .h5 (got '\(output)')")
        }
        let spec = VolumeSpec(shape: volumeShape, dataType: .uint8, chunkShape: chunkShape, voxelSize: voxel,
                              codec: try (isHDF5 && codec.name == "zstd" ? CodecName("gzip") : codec).codec())
        let labels: [(name: String, mask: KeyPath<SyntheticLabels, Volume<UInt8>>)] =
            rawOnly ? [] : [("synapse", \.synapse), ("mitochondria", \.mitochondria), ("membrane", \.membrane)]
        let keys = ["volumes/raw"] + labels.map { "volumes/labels/\($0.name)" }
        // Each volume gets a journal of the blocks written: a killed generate is reported as
        // incomplete by `info` and by every command that reads it, and the same command resumes it.
        let command = (["emflow"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let fingerprint = Fingerprint.of("generate|\(spec)|seed=\(seed)|labels=\(keys)")
        let journalPaths = keys.map { Stores.sidecarPath(for: address($0), name: "convert.json") }
        let previous = try journalPaths.map { try CopyJournal.load(at: $0) }
        let stores: [VolumeStore], journals: [CopyJournal]
        if !overwrite, previous.allSatisfy({ $0?.fingerprint == fingerprint }) {
            if previous.allSatisfy({ $0?.isComplete == true }) {
                print("\(output) is already complete (same shape, seed and settings); nothing to do")
                return
            }
            stores = try keys.map { try Stores.open(address($0), writable: true) }
            journals = previous.compactMap { $0 }
        } else {
            if overwrite { for path in journalPaths { try CopyJournal.invalidate(at: path) } }
            stores = try keys.map { try Stores.create(address($0), spec: spec, overwrite: overwrite) }
            journals = try journalPaths.map { try CopyJournal(creatingAt: $0, fingerprint: fingerprint, command: command) }
        }
        let done = journals.dropFirst().reduce(journals[0].finishedTiles) { $0.intersection($1.finishedTiles) }

        let generator = SyntheticEM(seed: seed, shape: volumeShape, voxelSize: voxel)
        let grid = try BlockGrid(region: Box(shape: volumeShape), blockShape: chunkShape)
        let progress = ProgressReporter(label: "generate", total: grid.count, unit: "blocks", sink: ProgressReporter.automaticSink)
        if !done.isEmpty {
            FileHandle.standardError.write(Data("resuming an interrupted generate: \(done.count) blocks already written\n".utf8))
            progress.advance(done.count)
        }
        let pending = (0..<grid.count).filter { !done.contains($0) }
        try parallelForEach(pending.count) { index in
            let id = pending[index]
            let box = grid.block(id: id).writeBox
            if rawOnly {
                try stores[0].write(generator.raw(in: box))
            } else {
                let sample = generator.generate(in: box)
                try stores[0].write(sample.raw)
                for (store, label) in zip(stores.dropFirst(), labels) { try store.write(sample.labels[keyPath: label.mask]) }
            }
            for store in stores where store.address.format == .hdf5 { try store.flush() }
            for journal in journals { try journal.markFinished(id) }
            progress.advance(1, bytes: box.voxelCount)
        }
        for store in stores { try store.flush() }
        for journal in journals { try journal.markComplete() }
        progress.finish()
        print("wrote \(keys.map { address($0).description }.joined(separator: ", "))")
    }
}
