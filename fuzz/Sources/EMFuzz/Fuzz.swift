import EMNN
import EMPipeline
import EMStorage
import EMStores
import EMVolume
import Foundation

/// One parser under test: what it is called and how it consumes one input.
///
/// Every target must turn any input into a value or a thrown error; a crash, a hang, an
/// overflow trap or an allocation past libFuzzer's limit is a finding. File formats are fed
/// through files in a scratch directory, as users give them.
struct FuzzTarget {
    let name: String
    let run: (Data) -> Void
}

enum Scratch {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "emflow-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `data` to `relative` under the scratch directory (parents made) and returns its path.
    static func file(_ relative: String, _ data: Data) -> String {
        let path = directory + "/" + relative
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return path
    }
}

/// Reads a little of an opened store: the first voxels of its first chunk.
func touch(_ store: VolumeStore) {
    let m = store.metadata
    let box = Box(offset: .zero, shape: Coordinate.minimum(m.chunkShape, Coordinate.minimum(m.shape, Coordinate(2, 16, 16))))
    var buffer = [UInt8](repeating: 0, count: box.voxelCount * m.dataType.size)
    _ = try? buffer.withUnsafeMutableBytes { try store.readBytes(box, into: $0, outside: .fill(0)) }
}

let targets: [FuzzTarget] = [
    FuzzTarget(name: "pipeline-yaml") { data in
        _ = try? PipelineLoader.load(yaml: String(decoding: data, as: UTF8.self), file: "fuzz.yaml",
                                     overrides: [VariableOverride(name: "input", value: "in.zarr/raw")])
    },
    FuzzTarget(name: "training-yaml") { data in
        let path = Scratch.file("train.yaml", data)
        _ = try? TrainingConfigurationReader.load(path)
    },
    FuzzTarget(name: "zarr-v2") { data in
        try? FileManager.default.removeItem(atPath: Scratch.directory + "/v2.zarr")
        _ = Scratch.file("v2.zarr/a/.zarray", data)
        _ = Scratch.file("v2.zarr/a/0.0.0", Data(repeating: 7, count: 64))
        if let store = try? Stores.open(StoreAddress(format: .zarr, path: Scratch.directory + "/v2.zarr", key: "a")) { touch(store) }
    },
    FuzzTarget(name: "zarr-v3") { data in
        try? FileManager.default.removeItem(atPath: Scratch.directory + "/v3.zarr")
        _ = Scratch.file("v3.zarr/a/zarr.json", data)
        _ = Scratch.file("v3.zarr/a/c/0/0/0", Data(repeating: 7, count: 64))
        if let store = try? Stores.open(StoreAddress(format: .zarr, path: Scratch.directory + "/v3.zarr", key: "a")) { touch(store) }
    },
    FuzzTarget(name: "tiff") { data in
        let path = Scratch.file("f.tif", data)
        if let store = try? Stores.open(StoreAddress(format: .tiff, path: path)) { touch(store) }
    },
    FuzzTarget(name: "safetensors") { data in
        _ = try? SafeTensors.read(from: URL(fileURLWithPath: Scratch.file("m.safetensors", data)))
    },
    FuzzTarget(name: "checkpoint-json") { data in
        let directory = Scratch.directory + "/checkpoint"
        _ = Scratch.file("checkpoint/config.json", data)
        _ = try? UNet(checkpoint: URL(fileURLWithPath: directory), threads: 1)
    },
]

/// The target named by EMFLOW_FUZZ_TARGET (benchmarks/run-fuzz.sh sets it).
let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["EMFLOW_FUZZ_TARGET"] ?? ""
    guard let target = targets.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("EMFLOW_FUZZ_TARGET must be one of: \(targets.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    _ = Scratch.directory
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    selected.run(Data(bytes: bytes, count: count))
    return 0
}
