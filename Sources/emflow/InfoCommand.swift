import ArgumentParser
import EMStorage
import EMVolume
import EMStores
import Foundation

/// `emflow info ADDRESS`: what a volume is, without reading its voxels.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a volume's shape, data type, chunks, codec, voxel size, offset and size on disk.",
        discussion: """
        Examples:
          emflow info data.h5:volumes/raw
          emflow info out.zarr/pred --json
          emflow info 'slices/*.tif'
        """
    )

    @Argument(help: "The volume's address, e.g. data.h5:volumes/raw, out.zarr/pred or 'slices/*.tif'.")
    var address: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let store = try Stores.open(try StoreAddress.parse(address))
        let m = store.metadata
        let onDisk = try store.bytesOnDisk()
        _ = try CopyJournal.load(at: Stores.sidecarPath(for: store.address, name: "convert.json")) // a malformed journal is an error
        let incompleteness = Stores.incompleteness(of: store.address)
        let interrupted = incompleteness != nil
        if json {
            let object: [String: Any] = [
                "address": store.address.description,
                "format": store.address.format.rawValue,
                "shape": m.shape.components,
                "dtype": m.dataType.rawValue,
                "chunks": m.chunkShape.components,
                "codec": m.codec,
                "voxel_size_nm": m.voxelSize.components,
                "offset_nm": m.origin.components,
                "fill_value": jsonNumber(m.fillValue),
                "bytes_uncompressed": m.uncompressedBytes,
                "bytes_on_disk": onDisk,
                "incomplete": interrupted,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let ratio = onDisk > 0 ? Double(m.uncompressedBytes) / Double(onDisk) : 0
            print("""
            address      \(store.address) (\(store.address.format.rawValue))
            shape        \(m.shape) (z,y,x)  \(m.shape.product) voxels
            dtype        \(m.dataType)
            chunks       \(m.chunkShape)
            codec        \(m.codec)
            voxel size   \(m.voxelSize.components.map(formatNumber).joined(separator: ",")) nm
            offset       \(m.origin.components.map(formatNumber).joined(separator: ",")) nm
            fill value   \(m.fillValue)
            size         \(formatBytes(m.uncompressedBytes)) uncompressed, \(formatBytes(Int(onDisk))) on disk\(ratio > 0 ? String(format: " (%.2fx)", ratio) : "")
            """)
            if let incompleteness {
                print("status       INCOMPLETE: \(incompleteness)")
            }
        }
    }
}

/// `value` for `JSONSerialization`: integers exact (uint64 included), and NaN and the
/// infinities, which JSON lacks, as the strings the Zarr specifications write.
private func jsonNumber(_ value: VoxelValue) -> Any {
    switch value {
    case let .integer(i): return Int64(exactly: i).map { $0 as Any } ?? UInt64(clamping: i)
    case let .real(d): return d.isFinite ? d as Any : value.description
    }
}

/// `4`, `4.6`: a number without a trailing `.0`.
func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// Bytes in binary units, e.g. `1.5 GiB`.
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
