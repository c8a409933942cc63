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
}
