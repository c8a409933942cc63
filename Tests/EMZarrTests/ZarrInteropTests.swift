import Foundation
import Testing
import EMStorage
import EMVolume
@testable import EMZarr
import TestSupport

/// Files emflow writes open identically in zarr-python 3, and files zarr-python writes (v2
/// with numcodecs compressors, v3 with its codecs and sharding) read identically in emflow.
@Suite("Zarr interoperability with zarr-python", .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
struct ZarrInteropTests {
    static let shape = Coordinate(13, 21, 18)
    static let chunks = Coordinate(5, 8, 7)

    /// Checks each array of a manifest against the raw little-endian C-order bytes beside it.
    static let checkScript = #"""
import json, sys
import numpy as np, zarr
root, manifest = sys.argv[1], json.load(open(sys.argv[2]))
for e in manifest:
    a = zarr.open_array(store=root, path=e["path"], mode="r")
    expected = np.fromfile(e["bin"], dtype=np.dtype(e["dtype"]).newbyteorder("<")).reshape(e["shape"])
    same = a.dtype == expected.dtype and a.shape == tuple(e["shape"]) and np.array_equal(a[...], expected)
    fill_ok = float(a.fill_value) == e["fill"]
    print(("ok " if same and fill_ok else "MISMATCH ") + e["path"] + f" dtype={a.dtype} fill={a.fill_value}")
"""#

    @Test func zarrPythonReadsWhatEmflowWrites() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-interop-out")
        defer { try? FileManager.default.removeItem(at: root) }
        let zarrRoot = root.appendingPathComponent("out.zarr").path
        var manifest: [[String: Any]] = []
        for (t, dataType) in DataType.allCases.enumerated() {
            for (c, codecName) in codecNames.enumerated() {
                let codec = try Codec.parse(codecName)
                let layouts: [(String, ZarrOptions)] = [
                    ("v2", ZarrOptions(version: 2, dimensionSeparator: (t + c) % 2 == 0 ? "/" : ".")),
                    ("v3", ZarrOptions(version: 3, dimensionSeparator: (t + c) % 2 == 0 ? "." : "/")),
                    ("v3-sharded", ZarrOptions(version: 3, shardShape: Self.chunks * Coordinate(2, 2, 1))),
                ]
                for (layout, options) in layouts {
                    let key = "\(layout)/\(dataType)-\(codecName)"
                    let store = try ZarrStore.create(StoreAddress(format: .zarr, path: zarrRoot, key: key),
                                                     spec: VolumeSpec(shape: Self.shape, dataType: dataType, chunkShape: Self.chunks, codec: codec),
                                                     options: options)
                    let bin = root.appendingPathComponent(key.replacingOccurrences(of: "/", with: "_") + ".bin")
                    try withScalarType(dataType) { type in try writeReference(type, to: store, bin: bin) }
                    manifest.append(["path": key, "dtype": dataType.rawValue, "shape": Self.shape.components, "bin": bin.path, "fill": 0])
                }
            }
        }
        let manifestURL = root.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        let lines = try runPython(Self.checkScript, [zarrRoot, manifestURL.path]).split(separator: "\n")
        #expect(lines.count == manifest.count)
        for line in lines { #expect(line.hasPrefix("ok "), "\(line)") }
    }

    private func writeReference<T: VoxelScalar>(_ type: T.Type, to store: ZarrStore, bin: URL) throws {
        let reference = referenceVolume(Self.shape, as: T.self)
        try writeInBlocks(reference, to: store, blockChunks: Coordinate(1, 1, 1))
        try reference.storage.withUnsafeBytes { try Data($0).write(to: bin) }
    }

    /// Writes arrays with zarr-python and records their data as raw little-endian bytes.
    static let writeScript = #"""
import json, sys
import numpy as np, numcodecs, zarr
from numcodecs import Blosc
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, ZstdCodec
from zarr.codecs.numcodecs import Zlib
root = sys.argv[1]
shape, chunks = (13, 21, 18), (5, 8, 7)
rng = np.random.default_rng(7)
manifest = []

def values(dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.normal(0, 1000, shape).astype(dt)
    native = dt.newbyteorder("=")
    return rng.integers(0, np.iinfo(native).max, shape, dtype=native, endpoint=True).astype(dt)

def case(name, dtype, fill=0, partial=False, **kwargs):
    kwargs.setdefault("chunks", chunks)
    array = zarr.create_array(store=root, name=name, shape=shape, dtype=dtype, fill_value=fill, **kwargs)
    data = values(dtype)
    if partial:  # leave chunks unwritten: they must read as the fill value
        full = np.full(shape, fill, dtype=dtype)
        full[5:, :, 7:] = data[5:, :, 7:]
        array[5:, :, 7:] = data[5:, :, 7:]
        data = full
    else:
        array[...] = data
    native = np.dtype(dtype).newbyteorder("=")
    bin_path = f"{root}/{name.replace('/', '_')}.bin"
    data.astype(native.newbyteorder("<")).tofile(bin_path)
    manifest.append({"path": name, "dtype": native.name, "bin": bin_path, "fill": None if fill != fill else float(fill)})

types = ["u1", "<u2", "<u4", "<u8", "<f4"]
for t in types:
    case(f"v2/{t[-2:]}-zstd", t, zarr_format=2, filters=None, compressors=numcodecs.Zstd(level=3))
    case(f"v2/{t[-2:]}-blosc-lz4", t, zarr_format=2, filters=None, compressors=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
         chunk_key_encoding={"name": "v2", "separator": "/"})
    case(f"v3/{t[-2:]}-zstd", t, compressors=[ZstdCodec(level=3)])
    case(f"v3/{t[-2:]}-blosc-lz4", t, compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")])
    case(f"v3/{t[-2:]}-sharded", t, chunks=(5, 8, 7), shards=(10, 16, 14), compressors=[ZstdCodec(level=1)])
v2 = dict(zarr_format=2, filters=None)
case("v2/gzip", "<u2", compressors=numcodecs.GZip(level=5), **v2)
case("v2/zlib", "<u2", compressors=numcodecs.Zlib(level=4), **v2)
case("v2/blosc-zstd-bitshuffle", "<u2", compressors=Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE), **v2)
case("v2/blosc-blosclz-noshuffle", "<u4", compressors=Blosc(cname="blosclz", clevel=9, shuffle=Blosc.NOSHUFFLE), **v2)
case("v2/blosc-autoshuffle", "u1", compressors=Blosc(cname="lz4hc", clevel=5, shuffle=Blosc.AUTOSHUFFLE), **v2)
case("v2/raw", "<u2", compressors=None, **v2)
case("v2/big-endian-u2", ">u2", compressors=numcodecs.Zstd(level=3), **v2)
case("v2/big-endian-f4", ">f4", compressors=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE), **v2)
case("v2/big-endian-u8", ">u8", compressors=numcodecs.GZip(level=1), **v2)
case("v2/partial-fill", "<u2", fill=7, partial=True, compressors=numcodecs.Zstd(level=3), **v2)
case("v2/partial-nan", "<f4", fill=float("nan"), partial=True, compressors=numcodecs.Zstd(level=3), **v2)
case("v3/gzip", "<u2", compressors=[GzipCodec(level=5)])
case("v3/blosc-zstd-bitshuffle", "<u4", compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")])
case("v3/zlib", "<u2", compressors=[Zlib(level=4)])
case("v3/raw", "<u8", compressors=None)
case("v3/big-endian", "<u2", serializer=BytesCodec(endian="big"), compressors=[ZstdCodec(level=2)])
case("v3/dot-separator", "<u2", chunk_key_encoding={"name": "default", "separator": "."}, compressors=[ZstdCodec(level=1)])
case("v3/v2-keys", "<u2", chunk_key_encoding={"name": "v2", "separator": "."}, compressors=[GzipCodec(level=1)])
case("v3/partial-nan", "<f4", fill=float("nan"), partial=True, compressors=[ZstdCodec(level=1)])
case("v3/sharded-partial", "<u2", fill=3, partial=True, chunks=(5, 8, 7), shards=(10, 8, 14), compressors=[BloscCodec(cname="lz4")])
case("v3/sharded-index-start", "<u4", chunks=(10, 16, 14), compressors=None,
     serializer=ShardingCodec(chunk_shape=(5, 8, 7), codecs=[BytesCodec(endian="big"), GzipCodec(level=3), Crc32cCodec()],
                              index_location="start"))
json.dump(manifest, open(f"{root}/manifest.json", "w"))
"""#

    @Test func emflowReadsWhatZarrPythonWrites() throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-interop-in")
        defer { try? FileManager.default.removeItem(at: root) }
        let zarrRoot = root.appendingPathComponent("in.zarr")
        try FileManager.default.createDirectory(at: zarrRoot, withIntermediateDirectories: true)
        try runPython(Self.writeScript, [zarrRoot.path])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: zarrRoot.appendingPathComponent("manifest.json"))) as! [[String: Any]]
        #expect(manifest.count == 46)
        let subBox = Box(offset: Coordinate(3, 5, 6), shape: Coordinate(8, 12, 9))
        for entry in manifest {
            let key = entry["path"] as! String
            let store = try ZarrStore.open(StoreAddress(format: .zarr, path: zarrRoot.path, key: key))
            #expect(store.metadata.dataType.rawValue == entry["dtype"] as! String, "\(key)")
            #expect(store.metadata.shape == Self.shape, "\(key)")
            if let fill = entry["fill"] as? Double { #expect(store.metadata.fillValue == .real(fill), "\(key)") }
            else { #expect(store.metadata.fillValue.isNaN, "\(key)") }
            let expected = try Data(contentsOf: URL(fileURLWithPath: entry["bin"] as! String))
            let elementSize = store.metadata.dataType.size
            var whole = [UInt8](repeating: 0, count: Self.shape.product * elementSize)
            try whole.withUnsafeMutableBytes { try store.readBytes(store.metadata.bounds, into: $0, outside: .error) }
            #expect(whole == [UInt8](expected), "\(key) (\(store.metadata.codec))")
            // A box crossing chunk borders, against the same bytes sliced naively.
            var part = [UInt8](repeating: 0, count: subBox.voxelCount * elementSize)
            try part.withUnsafeMutableBytes { try store.readBytes(subBox, into: $0, outside: .error) }
            var slice = [UInt8]()
            for z in subBox.offset.z..<subBox.end.z { for y in subBox.offset.y..<subBox.end.y {
                let start = ((z * Self.shape.y + y) * Self.shape.x + subBox.offset.x) * elementSize
                slice += expected[start..<(start + subBox.shape.x * elementSize)]
            } }
            #expect(part == slice, "\(key) sub-box")
        }
    }

    /// Reads back the OME-Zarr and funlib metadata emflow wrote, as zarr-python sees it.
    static let omeScript = #"""
import json, sys
import zarr
root, version = sys.argv[1], int(sys.argv[2])
group = zarr.open_group(store=root, path="volumes", mode="r")
attrs = group.attrs.asdict()
if version == 2:
    entries = attrs["multiscales"]
    versions = [m["version"] for m in entries]
else:
    entries = attrs["ome"]["multiscales"]
    versions = [attrs["ome"]["version"]]
out = {"versions": versions, "entries": []}
for m in entries:
    dataset = m["datasets"][0]
    array = group[dataset["path"]]
    transforms = dataset["coordinateTransformations"]
    out["entries"].append({
        "name": m["name"], "path": dataset["path"], "ndim": array.ndim,
        "axes": [[a["name"], a["type"], a["unit"]] for a in m["axes"]],
        "types": [t["type"] for t in transforms],
        "scale": transforms[0]["scale"], "translation": transforms[1]["translation"],
        "resolution": array.attrs["resolution"], "offset": array.attrs["offset"],
    })
print(json.dumps(out))
"""#

    @Test(arguments: [2, 3])
    func omeMetadataIsWhatOMEZarrExpects(version: Int) throws {
        let root = try TestEnvironment.temporaryDirectory("zarr-ome")
        defer { try? FileManager.default.removeItem(at: root) }
        let zarrRoot = root.appendingPathComponent("ome.zarr").path
        for (name, voxel, origin) in [("raw", VoxelSize(40, 4, 4), WorldPoint(400, 8, 12)), ("labels", VoxelSize(8, 8, 8), WorldPoint(0, 16, 32))] {
            _ = try ZarrStore.create(StoreAddress(format: .zarr, path: zarrRoot, key: "volumes/\(name)"),
                                     spec: VolumeSpec(shape: Coordinate(4, 6, 8), dataType: .uint8, chunkShape: Coordinate(2, 3, 4),
                                                      voxelSize: voxel, origin: origin), options: ZarrOptions(version: version))
        }
        // Recreating an array replaces its multiscale entry rather than adding another.
        _ = try ZarrStore.create(StoreAddress(format: .zarr, path: zarrRoot, key: "volumes/raw"),
                                 spec: VolumeSpec(shape: Coordinate(4, 6, 8), dataType: .uint8, chunkShape: Coordinate(2, 3, 4),
                                                  voxelSize: VoxelSize(40, 4, 4), origin: WorldPoint(400, 8, 12)),
                                 options: ZarrOptions(version: version), overwrite: true)
        let output = try runPython(Self.omeScript, [zarrRoot, "\(version)"])
        let parsed = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        #expect(parsed["versions"] as! [String] == (version == 2 ? ["0.4", "0.4"] : ["0.5"]))
        let entries = parsed["entries"] as! [[String: Any]]
        #expect(entries.map { $0["name"] as! String } == ["labels", "raw"])
        for entry in entries {
            let isRaw = entry["name"] as! String == "raw"
            #expect(entry["path"] as! String == entry["name"] as! String)
            #expect(entry["ndim"] as! Int == 3)
            #expect(entry["axes"] as! [[String]] == [["z", "space", "nanometer"], ["y", "space", "nanometer"], ["x", "space", "nanometer"]])
            #expect(entry["types"] as! [String] == ["scale", "translation"])
            #expect(entry["scale"] as! [Double] == (isRaw ? [40, 4, 4] : [8, 8, 8]))
            #expect(entry["translation"] as! [Double] == (isRaw ? [400, 8, 12] : [0, 16, 32]))
            #expect(entry["resolution"] as! [Double] == entry["scale"] as! [Double])
            #expect(entry["offset"] as! [Double] == entry["translation"] as! [Double])
        }
    }
}
