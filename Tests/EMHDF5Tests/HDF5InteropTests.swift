import EMHDF5
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

/// One dataset h5py wrote, as its script describes it.
struct H5pyDataset: Decodable {
    var key: String
    var dtype: String
    var shape: [Int]
    var chunks: [Int]?
    var codec: String
    var resolution: [Double]?
    var offset: [Double]?
    var bin: String
}

@Suite("HDF5 interoperability with h5py", .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
struct HDF5InteropTests {
    /// Writes, with h5py, every dtype (little- and big-endian) as chunked gzip, chunked raw and
    /// contiguous datasets, with CREMI attributes as float64, as int64 or absent, plus a 2D
    /// dataset; each dataset's values also go to a raw native-order file, and the script
    /// prints a JSON description of what it wrote.
    static let writeScript = """
        import sys, json, h5py, numpy as np
        path, outdir = sys.argv[1], sys.argv[2]
        rng = np.random.default_rng(7)
        shape = (7, 13, 21)
        datasets = []
        with h5py.File(path, 'w') as f:
            n = 0
            for dt in ['<u1', '<u2', '<u4', '<u8', '<f4', '>u2', '>u4', '>u8', '>f4']:
                for layout in ['gzip', 'raw', 'contiguous']:
                    if dt[1] == 'f':
                        a = (rng.standard_normal(shape) * 1000).astype(dt)
                    else:
                        info = np.iinfo(dt)
                        a = rng.integers(0, info.max, size=shape, dtype=np.dtype(dt).newbyteorder('=')).astype(dt)
                    key = f'{dt[1:]}/{"be" if dt[0] == ">" else "le"}/{layout}'
                    chunks = None if layout == 'contiguous' else (3, 5, 8)
                    d = f.create_dataset(key, data=a, chunks=chunks, compression='gzip' if layout == 'gzip' else None,
                                         compression_opts=4 if layout == 'gzip' else None)
                    assert d.dtype == np.dtype(dt), (key, d.dtype)
                    entry = dict(key=key, dtype=np.dtype(dt).name, shape=list(shape), chunks=list(chunks) if chunks else None,
                                 codec='gzip (level 4)' if layout == 'gzip' else 'raw')
                    if n % 3 == 0:
                        d.attrs['resolution'] = np.array([40.0, 4.5, 3.25])
                        d.attrs['offset'] = np.array([120.0, -4.5, 6.5])
                        entry.update(resolution=[40.0, 4.5, 3.25], offset=[120.0, -4.5, 6.5])
                    elif n % 3 == 1:
                        d.attrs['resolution'] = np.array([50, 4, 4], dtype=np.int64)
                        d.attrs['offset'] = np.array([100, 8, 0], dtype=np.int32)
                        entry.update(resolution=[50, 4, 4], offset=[100, 8, 0])
                    n += 1
                    entry['bin'] = f'{outdir}/{n}.bin'
                    np.ascontiguousarray(a.astype(a.dtype.newbyteorder('='))).tofile(entry['bin'])
                    datasets.append(entry)
            plane = rng.integers(0, 60000, size=(13, 21), dtype=np.uint16)
            d = f.create_dataset('section', data=plane, chunks=(5, 8), compression='gzip')
            d.attrs['resolution'] = np.array([4.0, 4.0])
            plane.tofile(f'{outdir}/section.bin')
            datasets.append(dict(key='section', dtype='uint16', shape=[1, 13, 21], chunks=[1, 5, 8], codec='gzip (level 4)',
                                 resolution=[1.0, 4.0, 4.0], bin=f'{outdir}/section.bin'))
        print(json.dumps(datasets))
        """

    @Test("files h5py writes (every dtype, both byte orders, gzip/raw/contiguous, float and int CREMI attributes) read identically")
    func readsH5pyFiles() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-h5py-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("h5py.h5").path
        let output = try runPython(Self.writeScript, [file, directory.path])
        let datasets = try JSONDecoder().decode([H5pyDataset].self, from: Data(output.utf8))
        #expect(datasets.count == 28)
        #expect(try HDF5Store.listDatasets(path: file) == datasets.map(\.key).sorted())
        for dataset in datasets {
            let store = try HDF5Store.open(StoreAddress(format: .hdf5, path: file, key: dataset.key))
            let metadata = store.metadata
            let shape = Coordinate(dataset.shape)!
            #expect(metadata.shape == shape, "\(dataset.key)")
            #expect(metadata.dataType == DataType(name: dataset.dtype), "\(dataset.key)")
            #expect(metadata.chunkShape == (dataset.chunks.flatMap(Coordinate.init) ?? shape), "\(dataset.key)")
            #expect(metadata.codec == dataset.codec, "\(dataset.key)")
            let resolution = dataset.resolution ?? VoxelSize.unit.components
            #expect(metadata.voxelSize.components == resolution, "\(dataset.key)")
            #expect(metadata.origin.components == (dataset.offset ?? WorldPoint.zero.components), "\(dataset.key)")
            switch metadata.dataType {
            case .uint8: try compare(store, dataset, UInt8.self)
            case .uint16: try compare(store, dataset, UInt16.self)
            case .uint32: try compare(store, dataset, UInt32.self)
            case .uint64: try compare(store, dataset, UInt64.self)
            case .float32: try compare(store, dataset, Float.self)
            }
        }
    }

    /// The whole dataset and a box crossing chunk borders and the volume's edge equal numpy's values.
    private func compare<T: VoxelScalar>(_ store: HDF5Store, _ dataset: H5pyDataset, _ type: T.Type) throws {
        let reference = try volumeFromFile(URL(fileURLWithPath: dataset.bin), box: store.metadata.bounds, as: T.self)
        #expect(try store.readAll(as: T.self) == reference, "\(dataset.key)")
        let box = Box(begin: Coordinate(0, 4, 7), end: Coordinate(store.metadata.shape.z + 1, 12, 22))
        #expect(try store.read(box, as: T.self, fill: .zero) == naiveRead(reference, box, fill: .zero), "\(dataset.key)")
    }

    @Test("files emflow writes read identically in h5py, with resolution and offset attributes", arguments: TestLayout.allCases)
    func h5pyReadsEmflowFiles(layout: TestLayout) throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-h5py-write")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shape = Coordinate(6, 11, 19)
        let file = directory.appendingPathComponent("emflow.h5").path
        for dataType in DataType.allCases {
            let store = try HDF5Store.create(StoreAddress(format: .hdf5, path: file, key: "out/\(dataType)"), spec: layout.spec(shape, dataType))
            let data: Data
            switch dataType {
            case .uint8: data = try write(patternVolume(store.metadata.bounds, as: UInt8.self), to: store)
            case .uint16: data = try write(patternVolume(store.metadata.bounds, as: UInt16.self), to: store)
            case .uint32: data = try write(patternVolume(store.metadata.bounds, as: UInt32.self), to: store)
            case .uint64: data = try write(patternVolume(store.metadata.bounds, as: UInt64.self), to: store)
            case .float32: data = try write(patternVolume(store.metadata.bounds, as: Float.self), to: store)
            }
            try data.write(to: directory.appendingPathComponent("\(dataType).bin"))
        }
        let spec = layout.spec(shape, .uint8)
        let output = try runPython("""
            import sys, h5py, numpy as np
            path, outdir, layout = sys.argv[1], sys.argv[2], sys.argv[3]
            names = {'uint8': 'u1', 'uint16': 'u2', 'uint32': 'u4', 'uint64': 'u8', 'float32': 'f4'}
            with h5py.File(path, 'r') as f:
                for name, code in names.items():
                    d = f['out/' + name]
                    expected = np.fromfile(f'{outdir}/{name}.bin', dtype=code).reshape(\(shape.z), \(shape.y), \(shape.x))
                    assert d.dtype == np.dtype('<' + code), (name, d.dtype)
                    assert np.array_equal(d[...], expected), name
                    assert list(d.attrs['resolution']) == [\(spec.voxelSize.z), \(spec.voxelSize.y), \(spec.voxelSize.x)], d.attrs['resolution']
                    assert d.attrs['resolution'].dtype == np.float64
                    assert list(d.attrs['offset']) == [\(spec.origin.z), \(spec.origin.y), \(spec.origin.x)], d.attrs['offset']
                    if layout == 'contiguous':
                        assert d.chunks is None, d.chunks
                    else:
                        assert d.chunks == (4, 8, 16), d.chunks
                    assert d.compression == ('gzip' if layout == 'chunkedGzip' else None), d.compression
                    assert d.fillvalue == 3, d.fillvalue
                    print(name, 'ok')
            """, [file, directory.path, layout.rawValue])
        #expect(output.split(separator: "\n").count == DataType.allCases.count)
    }

    /// Writes `volume` in chunk-aligned blocks and returns its bytes.
    private func write<T: VoxelScalar>(_ volume: Volume<T>, to store: HDF5Store) throws -> Data {
        try writeInBlocks(volume, to: store, blockChunks: Coordinate(1, 1, 2))
        return rawBytes(volume)
    }

    @Test("plugin filters are named in the codec; a filter this library lacks gives metadata, and reads fail naming it")
    func unavailableFilter() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-filters")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("filters.h5").path
        // h5py (like hdf5plugin) records plugin filters as optional; every chunk is then stored
        // as the filter's output, written here directly. Filter 300 lies in the range HDF5
        // keeps for testing, so no installed plugin can provide it.
        try runPython("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], 'w') as f:
                for key, filter in [('blosc', 32001), ('testing', 300)]:
                    d = f.create_dataset(key, shape=(4, 8, 8), dtype='u1', chunks=(4, 8, 8),
                                         compression=filter, compression_opts=(2, 2, 1, 256, 5, 1, 0), allow_unknown_filter=True)
                    d.id.write_direct_chunk((0, 0, 0), b'not really compressed', filter_mask=0)
            """, [file])
        #expect(try HDF5Store.open(StoreAddress(format: .hdf5, path: file, key: "blosc")).metadata.codec == "filter 32001 (blosc plugin)")
        let address = StoreAddress(format: .hdf5, path: file, key: "testing")
        let store = try HDF5Store.open(address)
        #expect(store.metadata.codec == "filter 300")
        let error = #expect(throws: StorageError.self) { try store.readAll(as: UInt8.self) }
        guard case let .unsupported(path, feature) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == address.description)
        #expect(feature.contains("filter 300"))
    }

    @Test("a file with a user block (HDF5 signature at byte 1024) opens")
    func userBlock() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-userblock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("userblock.h5").path
        try runPython("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], 'w', userblock_size=1024) as f:
                f['volumes/raw'] = np.arange(24, dtype='u1').reshape(2, 3, 4)
            """, [file])
        let store = try HDF5Store.open(StoreAddress(format: .hdf5, path: file, key: "volumes/raw"))
        #expect(try store.readAll(as: UInt8.self).storage == (0..<24).map(UInt8.init))
    }

    @Test("another program holding the file open (HDF5's own flock) makes an emflow write wait, then both writes land")
    func writeWaitsForAnotherProcess() throws {
        let directory = try TestEnvironment.temporaryDirectory("hdf5-lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = hdf5Address(directory)
        let spec = VolumeSpec(shape: Coordinate(2, 8, 8), dataType: .uint8, chunkShape: Coordinate(1, 8, 8), codec: .gzip(level: 1))
        let store = try HDF5Store.create(address, spec: spec)
        let ready = directory.appendingPathComponent("ready").path
        let child = Process()
        child.executableURL = URL(fileURLWithPath: TestEnvironment.python!)
        child.arguments = ["-c", """
            import sys, time, h5py, numpy as np
            with h5py.File(sys.argv[1], 'r+') as f:   # HDF5's default locking: flock(LOCK_EX)
                open(sys.argv[2], 'w').close()
                time.sleep(1.5)
                f['volumes/raw'][0] = np.full((8, 8), 11, 'u1')
            print(time.time())
            """, address.path, ready]
        // emflow switches HDF5's locking off for itself (and so for its children): ask for it.
        child.environment = ProcessInfo.processInfo.environment.merging(["HDF5_USE_FILE_LOCKING": "TRUE"]) { $1 }
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ready) && Date() < deadline { usleep(10_000) }
        try store.write(Volume<UInt8>(box: Box(offset: Coordinate(1, 0, 0), shape: Coordinate(1, 8, 8)), repeating: 22))
        let writtenAt = Date().timeIntervalSince1970
        child.waitUntilExit()
        let closedAt = Double(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
        #expect(child.terminationStatus == 0)
        #expect(writtenAt >= closedAt - 0.05, "the write finished before the other process closed the file")
        let all = try store.readAll(as: UInt8.self)
        #expect(all.storage == [UInt8](repeating: 11, count: 64) + [UInt8](repeating: 22, count: 64))
    }
}
