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
        switch address.format {
        case .zarr: return try ZarrStore.open(address)
        case .hdf5: return try HDF5Store.open(address, writable: writable)
        case .tiff: return try TIFFStore.open(address)
        }
    }

    /// Parses `address` and opens the volume there.
    public static func open(_ address: String, writable: Bool = false) throws -> VolumeStore {
        try open(StoreAddress.parse(address), writable: writable)
    }

    /// Creates a new volume; an existing one is replaced only when `overwrite` is true.
    public static func create(_ address: StoreAddress, spec: VolumeSpec, overwrite: Bool = false,
                              zarr: ZarrOptions = ZarrOptions()) throws -> VolumeStore {
        try spec.validate(for: address.description)
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
