import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// Files written by the libraries labs use (zarr-python, tensorstore, h5py, tifffile), read
/// the way a user reads them: values exact, layouts recognised, never a silent misread.
@Suite("Foreign files", .serialized, .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
struct ForeignFileTests {
    /// uint64 fill values beyond 2^53 (2^60+1 and 2^64-1) stay exact: in missing chunks, in
    /// `info --json`, and in what `convert` writes, which zarr-python, tensorstore and h5py
    /// then open with the same fill value.
    @Test func uint64FillValuesStayExact() throws {
        let dir = try TestEnvironment.temporaryDirectory("uint64-fill")
        let fills: [UInt64] = [1 << 60 + 1, UInt64.max]
        _ = try runPython("""
            import sys, numpy as np, zarr, h5py
            d = sys.argv[1]
            for i, fill in enumerate([2**60 + 1, 2**64 - 1]):
                for fmt in (2, 3):
                    a = zarr.create_array(store=f"{d}/v{fmt}-{i}.zarr", shape=(4, 8, 8), chunks=(2, 8, 8), dtype="uint64", fill_value=fill, zarr_format=fmt)
                    a[0:2] = np.arange(128, dtype="uint64").reshape(2, 8, 8)
                with h5py.File(f"{d}/h-{i}.h5", "w") as f:
                    ds = f.create_dataset("labels", shape=(4, 8, 8), chunks=(2, 8, 8), dtype="uint64", fillvalue=np.uint64(fill))
                    ds[0:2] = np.arange(128, dtype="uint64").reshape(2, 8, 8)
            """, [dir.path])
        for (i, fill) in fills.enumerated() {
            for source in ["v2-\(i).zarr", "v3-\(i).zarr", "h-\(i).h5:labels"] {
                let address = dir.path + "/" + source
                let store = try Stores.open(address)
                #expect(store.metadata.fillValue == .integer(Int128(fill)), "\(source): \(store.metadata.fillValue)")
                let missing = try store.read(Box(offset: Coordinate(2, 0, 0), shape: Coordinate(2, 8, 8)), as: UInt64.self)
                #expect(missing.storage.allSatisfy { $0 == fill }, "\(source): missing chunk read \(missing.storage.first!)")
                let written = try store.read(Box(shape: Coordinate(2, 8, 8)), as: UInt64.self)
                #expect(written.storage == (0..<128).map(UInt64.init), "\(source)")

                let info = try runEmflow(["info", address, "--json"])
                #expect(info.status == 0 && info.stdout.contains("\"fill_value\" : \(fill)"), "\(source): \(info.stdout)\(info.stderr)")
                let text = try runEmflow(["info", address])
                #expect(text.stdout.contains("fill value   \(fill)"), "\(text.stdout)")
            }
            for (j, target) in ["c2-\(i).zarr", "c3-\(i).zarr", "c-\(i).h5:labels"].enumerated() {
                var arguments = ["convert", "\(dir.path)/v2-\(i).zarr", "\(dir.path)/\(target)"]
                if j == 1 { arguments += ["--zarr-version", "3"] }
                let result = try runEmflow(arguments)
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
        let report = try runPython("""
            import sys, numpy as np, zarr, h5py, tensorstore as ts
            d = sys.argv[1]
            for i, fill in enumerate([2**60 + 1, 2**64 - 1]):
                for fmt in (2, 3):
                    path = f"{d}/c{fmt}-{i}.zarr"
                    a = zarr.open_array(path, mode="r")
                    t = ts.open({"driver": "zarr" if fmt == 2 else "zarr3", "kvstore": {"driver": "file", "path": path}}).result()
                    values = t[2:4].read().result()
                    print(path, int(a.fill_value) == fill, bool((a[2:4] == np.uint64(fill)).all()), bool((values == np.uint64(fill)).all()), bool((a[0:2].ravel() == np.arange(128)).all()))
                with h5py.File(f"{d}/c-{i}.h5", "r") as f:
                    ds = f["labels"]
                    print(f"h5-{i}", int(ds.fillvalue) == fill, bool((ds[0:2].ravel() == np.arange(128)).all()))
            """, [dir.path])
        let lines = report.split(separator: "\n")
        #expect(lines.count == 6, "\(report)")
        for line in lines { #expect(!line.contains("False"), "\(line)") }
    }

    /// Multichannel OME-TIFFs and ImageJ hyperstacks are never read as one z stack of all
    /// their pages: without a choice they are refused with the choices named; `[c=1]` (and
    /// `[t=1]`) read exactly the planes tifffile wrote for that channel and time point.
    @Test func channelsAreChosenNeverMerged() throws {
        let dir = try TestEnvironment.temporaryDirectory("hyperstack")
        _ = try runPython("""
            import sys, numpy as np, tifffile
            d = sys.argv[1]
            czyx = np.arange(2 * 5 * 16 * 24, dtype="uint16").reshape(2, 5, 16, 24)
            tifffile.imwrite(f"{d}/two.ome.tif", czyx, ome=True, metadata={"axes": "CZYX"})
            tifffile.imwrite(f"{d}/ij.tif", czyx.transpose(1, 0, 2, 3), imagej=True, metadata={"axes": "ZCYX"})
            tzcyx = np.arange(2 * 4 * 3 * 8 * 8, dtype="uint8").reshape(2, 4, 3, 8, 8)
            tifffile.imwrite(f"{d}/tzc.ome.tif", tzcyx, ome=True, metadata={"axes": "TZCYX"})
            tifffile.imwrite(f"{d}/plain.tif", czyx[0])
            """, [dir.path])
        func values(_ address: String) throws -> [Int] {
            let store = try Stores.open(address)
            switch store.metadata.dataType {
            case .uint16: return try store.readAll(as: UInt16.self).storage.map(Int.init)
            default: return try store.readAll(as: UInt8.self).storage.map(Int.init)
            }
        }
        let plane = 16 * 24
        for file in ["two.ome.tif", "ij.tif"] {
            let path = dir.path + "/" + file
            let refused = try runEmflow(["info", path])
            #expect(refused.status != 0 && refused.stderr.contains("2 channels") && refused.stderr.contains("\(path)[c=1]"), "\(refused.stderr)")
            for c in 0..<2 {
                #expect(try values("\(path)[c=\(c)]") == Array(c * 5 * plane..<(c + 1) * 5 * plane), "\(file) channel \(c)")
            }
            #expect(try Stores.open("\(path)[c=1]").metadata.shape == Coordinate(5, 16, 24))
            let beyond = try runEmflow(["info", path + "[c=2]"])
            #expect(beyond.status != 0 && beyond.stderr.contains("below 2"), "\(beyond.stderr)")
            #expect(throws: StorageError.self) { try Stores.open("\(path)[c=0]").write(Volume<UInt16>(box: Box(shape: Coordinate(1, 16, 24)))) }
        }
        // T=2, Z=4, C=3: both axes must be chosen; planes follow the file's DimensionOrder.
        let tzc = dir.path + "/tzc.ome.tif"
        let onlyChannel = try runEmflow(["info", tzc + "[c=2]"])
        #expect(onlyChannel.status != 0 && onlyChannel.stderr.contains("2 time points"), "\(onlyChannel.stderr)")
        let expected = (0..<4).flatMap { z in (0..<64).map { (((1 * 4 + z) * 3 + 2) * 64 + $0) % 256 } }
        #expect(try values(tzc + "[c=2,t=1]") == expected)
        // A single-channel stack reads as before; only c=0 exists there.
        #expect(try values(dir.path + "/plain.tif").count == 5 * plane)
        #expect(try values(dir.path + "/plain.tif[c=0]").count == 5 * plane)
        #expect(throws: StorageError.self) { try Stores.open(dir.path + "/plain.tif[c=1]") }
        #expect(throws: StorageError.self) { try Stores.open(dir.path + "/plain.tif[z=1]") }
    }

    /// An SGI volumetric TIFF (ImageDepth 16, one page) is refused with the reason, not read
    /// as its first section.
    @Test func volumetricTIFFIsRefused() throws {
        let dir = try TestEnvironment.temporaryDirectory("sgi")
        _ = try runPython("""
            import sys, numpy as np, tifffile
            tifffile.imwrite(sys.argv[1] + "/sgi.tif", np.arange(16 * 32 * 32, dtype="uint8").reshape(16, 32, 32), volumetric=True, tile=(16, 16, 16))
            """, [dir.path])
        let result = try runEmflow(["info", dir.path + "/sgi.tif"])
        #expect(result.status != 0 && result.stderr.contains("ImageDepth 16"), "\(result.stdout)\(result.stderr)")
    }

    /// zarr-python 2's NestedDirectoryStore wrote chunks as `0/0/0` without
    /// `dimension_separator`; such an array reads its data, not the fill value. (zarr-python 3
    /// always writes the key, so the key is removed here to make what the old writer made.)
    @Test func legacyNestedZarrReadsItsChunks() throws {
        let dir = try TestEnvironment.temporaryDirectory("nested")
        _ = try runPython("""
            import sys, json, numpy as np, zarr
            path = sys.argv[1] + "/legacy.zarr"
            a = zarr.create_array(store=path, shape=(4, 8, 8), chunks=(2, 4, 4), dtype="uint8", fill_value=7, zarr_format=2, chunk_key_encoding={"name": "v2", "separator": "/"})
            a[:] = np.arange(256, dtype="uint8").reshape(4, 8, 8)
            meta = json.load(open(path + "/.zarray"))
            assert meta.pop("dimension_separator") == "/"
            json.dump(meta, open(path + "/.zarray", "w"))
            """, [dir.path])
        let store = try Stores.open(dir.path + "/legacy.zarr")
        #expect(try store.readAll(as: UInt8.self).storage == (0..<256).map(UInt8.init))
    }

    /// HDF5 files under other extensions open by content (`x.ims:dataset`), a bare HDF5 path
    /// is told to name a dataset, and a file format newer than the linked libhdf5 says so.
    @Test func hdf5IsRecognisedByContent() throws {
        let dir = try TestEnvironment.temporaryDirectory("hdf5-content")
        _ = try runPython("""
            import sys, numpy as np, h5py
            d = sys.argv[1]
            for name in ("scan.ims", "beam.nxs", "cells.mat"):
                with h5py.File(f"{d}/{name}", "w", userblock_size=512 if name.endswith(".mat") else 0) as f:
                    f.create_dataset("DataSet/raw", data=np.arange(2 * 8 * 8, dtype="uint8").reshape(2, 8, 8))
            with h5py.File(f"{d}/old.h5", "w", libver="earliest") as f:
                f.create_dataset("x", data=np.zeros((2, 4, 4), dtype="uint8"))
            b = bytearray(open(f"{d}/old.h5", "rb").read())
            b[8] = 9  # a superblock version no libhdf5 knows
            open(f"{d}/new.h5", "wb").write(b)
            """, [dir.path])
        for name in ["scan.ims", "beam.nxs", "cells.mat"] {
            let store = try Stores.open("\(dir.path)/\(name):DataSet/raw")
            #expect(store.address.format == .hdf5)
            #expect(try store.readAll(as: UInt8.self).storage == (0..<128).map(UInt8.init), "\(name)")
            let bare = try runEmflow(["info", "\(dir.path)/\(name)"])
            #expect(bare.status != 0 && bare.stderr.contains("this file is HDF5") && bare.stderr.contains(":volumes/raw"), "\(bare.stderr)")
        }
        let newer = try runEmflow(["info", dir.path + "/new.h5:x"])
        #expect(newer.status != 0 && newer.stderr.contains("newer than the linked libhdf5"), "\(newer.stderr)")
    }
}
