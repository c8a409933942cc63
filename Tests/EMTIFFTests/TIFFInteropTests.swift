import EMStorage
import EMTIFF
import EMVolume
import Foundation
import TestSupport
import Testing

/// Files tifffile writes read identically in emflow, and files emflow writes read
/// identically in tifffile, voxel size included.
@Suite("TIFF interoperability with tifffile", .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
struct TIFFInteropTests {
    /// One volume written by one side, with the raw bytes the other side must read.
    struct Case: Codable {
        var name: String
        var path: String
        var dtype: String
        var shape: [Int]
        var voxel: [Double]
    }

    /// A file the Python side made that emflow must refuse, and a word the error must contain.
    struct BadCase: Codable {
        var path: String
        var error: String
        var atOpen: Bool
    }

    struct Manifest: Codable {
        var cases: [Case]
        var bad: [BadCase]
    }

    static let tifffileWrites = #"""
    import json, os, sys
    import numpy as np, tifffile
    out = sys.argv[1]
    rng = np.random.default_rng(5)
    cases, bad = [], []

    def data(dtype, shape):
        if dtype == 'float32':
            return (rng.standard_normal(shape) * 1000).astype('float32')
        return rng.integers(0, np.iinfo(dtype).max + 1, size=shape, dtype=dtype)

    def add(name, path, arr, voxel):
        arr.tofile(os.path.join(out, name + '.bin'))
        cases.append(dict(name=name, path=path, dtype=str(arr.dtype), shape=list(arr.shape), voxel=voxel))

    shape = (5, 37, 29)
    for dtype in ('uint8', 'uint16', 'float32'):
        for comp, predictor in ((None, False), ('lzw', False), ('lzw', True), ('zlib', False), ('zlib', True), (32946, False)):
            arr = data(dtype, shape)
            name = f'stack-{dtype}-{comp}-{predictor}'
            path = os.path.join(out, name + '.tif')
            tifffile.imwrite(path, arr, compression=comp, predictor=predictor or None, rowsperstrip=8)
            add(name, path, arr, [1, 1, 1])
        arr = data(dtype, shape)
        path = os.path.join(out, f'tiled-{dtype}.tif')
        tifffile.imwrite(path, arr, tile=(16, 16), compression='zlib')
        add(f'tiled-{dtype}', path, arr, [1, 1, 1])

    arr = data('uint16', shape)
    path = os.path.join(out, 'tiled-zstd.tif')
    tifffile.imwrite(path, arr, tile=(16, 32), compression='zstd')
    add('tiled-zstd', path, arr, [1, 1, 1])

    for dtype in ('uint8', 'uint16', 'float32'):
        arr = data(dtype, shape)
        path = os.path.join(out, f'imagej-{dtype}.tif')
        tifffile.imwrite(path, arr, imagej=True, resolution=(1 / 4.0, 1 / 5.0),
                         metadata={'spacing': 40.0, 'unit': 'nm', 'axes': 'ZYX'})
        add(f'imagej-{dtype}', path, arr, [40, 5, 4])
    arr = data('uint8', shape)
    path = os.path.join(out, 'imagej-micron.tif')
    tifffile.imwrite(path, arr, imagej=True, resolution=(1 / 0.006, 1 / 0.006),
                     metadata={'spacing': 0.05, 'unit': 'um', 'axes': 'ZYX'})
    add('imagej-micron', path, arr, [50, 6, 6])
    arr = data('uint16', shape)
    path = os.path.join(out, 'centimeter.tif')
    tifffile.imwrite(path, arr, resolution=(1e7 / 8, 1e7 / 8), resolutionunit='CENTIMETER')
    add('centimeter', path, arr, [1, 8, 8])

    os.makedirs(os.path.join(out, 'slices'))
    arr = data('uint16', (12, 21, 17))
    for z in range(12):
        tifffile.imwrite(os.path.join(out, 'slices', f'img_{z + 1}.tif'), arr[z], compression='lzw', imagej=True,
                         resolution=(1 / 4.0, 1 / 4.0), metadata={'spacing': 30.0, 'unit': 'nm'})
    add('slices', os.path.join(out, 'slices', 'img_*.tif'), arr, [30, 4, 4])
    os.makedirs(os.path.join(out, 'tiles'))
    arr = data('float32', (3, 40, 33))
    for z in range(3):
        tifffile.imwrite(os.path.join(out, 'tiles', f't{z}.tiff'), arr[z], tile=(16, 16), compression='zlib')
    add('tiled-slices', os.path.join(out, 'tiles', 't*.tiff'), arr, [1, 1, 1])

    path = os.path.join(out, 'rgb.tif')
    tifffile.imwrite(path, data('uint8', (6, 7, 3)), photometric='rgb')
    bad.append(dict(path=path, error='RGB', atOpen=True))
    path = os.path.join(out, 'palette.tif')
    tifffile.imwrite(path, data('uint8', (6, 7)), photometric='palette', colormap=np.zeros((3, 256), 'uint16'))
    bad.append(dict(path=path, error='Palette', atOpen=True))
    path = os.path.join(out, 'int16.tif')
    tifffile.imwrite(path, np.zeros((2, 6, 7), 'int16'))
    bad.append(dict(path=path, error='int16', atOpen=True))
    path = os.path.join(out, 'truncated.tif')
    tifffile.imwrite(path, data('uint16', (64, 64)), rowsperstrip=16)
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) - 3000)
    bad.append(dict(path=path, error='strip', atOpen=False))

    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(dict(cases=cases, bad=bad), f)
    """#

    @Test func readsWhatTifffileWrites() throws {
        let scratch = try Scratch("tiff-from-tifffile")
        try runPython(Self.tifffileWrites, [scratch.url.path])
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: scratch.url.appendingPathComponent("manifest.json")))
        #expect(manifest.cases.count == 29)
        for item in manifest.cases {
            let store = try TIFFStore.open(StoreAddress(format: .tiff, path: item.path))
            let shape = try #require(Coordinate(item.shape))
            let dataType = try #require(DataType(name: item.dtype))
            #expect(store.metadata.shape == shape, "\(item.name)")
            #expect(store.metadata.dataType == dataType, "\(item.name)")
            #expect(store.metadata.voxelSize.components == item.voxel, "\(item.name): \(store.metadata.voxelSize)")
            let expected = try Data(contentsOf: scratch.url.appendingPathComponent(item.name + ".bin"))
            for box in TIFFTestData.probeBoxes(shape) where Box(shape: shape).contains(box) {
                var read = Data(count: box.voxelCount * dataType.size)
                try read.withUnsafeMutableBytes { try store.readBytes(box, into: $0, outside: .error) }
                #expect(read == Self.naiveCrop(expected, shape: shape, elementSize: dataType.size, box: box), "\(item.name) box \(box)")
            }
        }
        for item in manifest.bad {
            do {
                let store = try TIFFStore.open(StoreAddress(format: .tiff, path: item.path))
                #expect(!item.atOpen, "\(item.path) opened")
                _ = try store.readAll(as: UInt16.self)
                Issue.record("\(item.path) read without error")
            } catch let error as StorageError {
                #expect("\(error)".contains(item.path) && "\(error)".contains(item.error), "\(error)")
            }
        }
    }

    /// The bytes of `box` from a dense volume of `shape`, element by element.
    static func naiveCrop(_ data: Data, shape: Coordinate, elementSize: Int, box: Box) -> Data {
        var result = Data(capacity: box.voxelCount * elementSize)
        for z in box.offset.z..<box.end.z {
            for y in box.offset.y..<box.end.y {
                for x in box.offset.x..<box.end.x {
                    let start = ((z * shape.y + y) * shape.x + x) * elementSize
                    result.append(data[start..<start + elementSize])
                }
            }
        }
        return result
    }

    static let tifffileReads = #"""
    import glob, json, sys
    import numpy as np, tifffile
    manifest = json.load(open(sys.argv[1]))
    results = {}
    for case in manifest['cases']:
        expected = np.fromfile(case['bin'], dtype=case['dtype']).reshape(case['shape'])
        array = tifffile.imread(case['path'])
        first = sorted(glob.glob(case['path']))[0] if '*' in case['path'] else case['path']
        with tifffile.TiffFile(first) as tif:
            page = tif.pages[0]
            imagej = tif.imagej_metadata or {}
            x, y = page.get_resolution()
            results[case['name']] = dict(
                equal=bool(array.shape == expected.shape and np.array_equal(array, expected)),
                shape=list(array.shape), voxel=[imagej.get('spacing'), 1 / y, 1 / x], unit=imagej.get('unit'),
                compression=int(page.compression), predictor=int(page.predictor), pages=len(tif.pages))
    print(json.dumps(results))
    """#

    struct TifffileView: Codable {
        var equal: Bool
        var shape: [Int]
        var voxel: [Double]
        var unit: String?
        var compression: Int
        var predictor: Int
        var pages: Int
    }

    @Test func tifffileReadsWhatEmflowWrites() throws {
        let scratch = try Scratch("tiff-to-tifffile")
        let shape = Coordinate(6, 35, 27)
        let voxelSize = VoxelSize(40, 4, 5)
        var entries: [[String: Any]] = []
        var expectations: [String: (compression: Int, predictor: Int, pages: Int)] = [:]
        let settings: [(String, Codec, TIFFOptions, Int)] = [
            ("raw", .raw, TIFFOptions(), 1),
            ("lzw", .raw, TIFFOptions(compression: .lzw, rowsPerStrip: 7), 5),
            ("deflate", .gzip(level: 6), TIFFOptions(), 8),
            ("deflate-predictor", .zlib(level: 9), TIFFOptions(predictor: true, rowsPerStrip: 10), 8),
            ("zstd", .zstd(level: 3), TIFFOptions(), 50000),
        ]
        for dataType in [DataType.uint8, .uint16, .float32] {
            for (label, codec, options, compression) in settings {
                for (layout, pattern) in [("stack", "\(label).tif"), ("slices", "\(label)/slice_*.tif")] {
                    let name = "\(dataType)-\(label)-\(layout)"
                    let path = scratch.path("\(dataType)/\(pattern)")
                    let spec = VolumeSpec(shape: shape, dataType: dataType, chunkShape: shape, voxelSize: voxelSize, codec: codec)
                    let store = try TIFFStore.create(StoreAddress(format: .tiff, path: path), spec: spec, options: options)
                    let bytes: Data
                    switch dataType {
                    case .uint8: bytes = try Self.writeRandom(UInt8.self, to: store)
                    case .uint16: bytes = try Self.writeRandom(UInt16.self, to: store)
                    default: bytes = try Self.writeRandom(Float.self, to: store)
                    }
                    let bin = scratch.path("\(name).bin")
                    try bytes.write(to: URL(fileURLWithPath: bin))
                    entries.append(["name": name, "path": path, "bin": bin, "dtype": dataType.rawValue, "shape": shape.components])
                    let predictor = options.predictor ? (dataType == .float32 ? 3 : 2) : 1
                    expectations[name] = (compression, predictor, layout == "stack" ? shape.z : 1)
                }
            }
        }
        let manifestPath = scratch.path("manifest.json")
        try JSONSerialization.data(withJSONObject: ["cases": entries]).write(to: URL(fileURLWithPath: manifestPath))
        let output = try runPython(Self.tifffileReads, [manifestPath])
        let views = try JSONDecoder().decode([String: TifffileView].self, from: Data(output.utf8))
        #expect(views.count == expectations.count)
        for (name, expected) in expectations {
            let view = try #require(views[name], "\(name) missing from tifffile's answer")
            #expect(view.equal, "\(name): tifffile reads different values")
            #expect(view.shape == shape.components, "\(name)")
            #expect(view.unit == "nm", "\(name)")
            #expect(zip(view.voxel, voxelSize.components).allSatisfy { abs($0 - $1) <= 1e-6 * $1 }, "\(name): \(view.voxel)")
            #expect(view.compression == expected.compression, "\(name)")
            #expect(view.predictor == expected.predictor, "\(name)")
            #expect(view.pages == expected.pages, "\(name)")
        }
    }

    /// Writes random voxels through `store` (sections in reverse order), flushes, and returns their bytes.
    static func writeRandom<T: VoxelScalar>(_ type: T.Type, to store: TIFFStore) throws -> Data {
        let volume = TIFFTestData.random(T.self, shape: store.metadata.shape, seed: 3)
        for z in (0..<volume.shape.z).reversed() {
            try store.write(volume.cropped(to: Box(offset: Coordinate(z, 0, 0), shape: Coordinate(1, volume.shape.y, volume.shape.x))))
        }
        try store.flush()
        return TIFFTestData.bytes(volume)
    }
}
