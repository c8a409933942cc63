import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// `emflow generate`, `info` and `convert` as a user runs them: the real binary, real files.
@Suite("Storage commands", .serialized)
struct StorageCommandTests {
    /// A generated volume shared by the tests of this suite.
    static let fixture: URL = {
        let dir = try! TestEnvironment.temporaryDirectory("cli")
        let result = try! runEmflow(["generate", dir.appendingPathComponent("g.zarr").path, "--shape", "12,96,80", "--seed", "3", "--chunks", "5,32,32"])
        precondition(result.status == 0, "emflow generate failed: \(result.stderr)")
        return dir
    }()

    static var raw: String { fixture.appendingPathComponent("g.zarr/volumes/raw").path }

    @Test func infoReportsMetadataAsJSON() throws {
        let result = try runEmflow(["info", Self.raw, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(object["shape"] as? [Int] == [12, 96, 80])
        #expect(object["chunks"] as? [Int] == [5, 32, 32])
        #expect(object["dtype"] as? String == "uint8")
        #expect(object["voxel_size_nm"] as? [Double] == [40, 4, 4])
        #expect((object["bytes_on_disk"] as? Int ?? 0) > 0)
        let text = try runEmflow(["info", Self.raw])
        #expect(text.stdout.contains("12,96,80"))
    }

    /// Every output format and a region of interest: the copy equals the source box.
    @Test(arguments: ["out.zarr/raw", "out.h5:volumes/raw", "tiles/*.tif", "stack.tif", "v3.zarr/a/b"])
    func convertCopiesExactly(target: String) throws {
        let dir = try TestEnvironment.temporaryDirectory("convert")
        let output = dir.path + "/" + target
        var arguments = ["convert", Self.raw, output, "--roi", "2:11,7:90,0:77", "--chunks", "3,40,32", "--memory-mb", "16"]
        if target.hasPrefix("v3") { arguments += ["--zarr-version", "3", "--codec", "blosc-zstd"] }
        if target.hasSuffix(".tif") { arguments += ["--codec", "raw"] }
        if target.hasPrefix("out.h5") { arguments += ["--codec", "gzip", "--level", "2"] }
        let result = try runEmflow(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let source = try Stores.open(Self.raw)
        let copy = try Stores.open(output)
        let region = try Box.parse("2:11,7:90,0:77")
        #expect(copy.metadata.shape == region.shape)
        #expect(try copy.readAll(as: UInt8.self).storage == source.read(region, as: UInt8.self).storage)
        #expect(copy.metadata.voxelSize == source.metadata.voxelSize)
        let journal = try CopyJournal.load(at: Stores.sidecarPath(for: try StoreAddress.parse(output), name: "convert.json"))
        #expect(journal?.isComplete == true)
        let again = try runEmflow(arguments)
        #expect(again.status == 0 && again.stdout.contains("already complete"), "\(again.stdout)\(again.stderr)")
    }

    /// Without --codec every output gets a codec its usual readers open as installed: HDF5
    /// gzip (h5py), TIFF uncompressed (tifffile, ImageJ), Zarr zstd.
    @Test func defaultCodecsSuitTheOutputFormat() throws {
        let dir = try TestEnvironment.temporaryDirectory("default-codec")
        for (target, codec) in [("out.h5:volumes/raw", "gzip"), ("stack.tif", "raw"), ("out.zarr/raw", "zstd")] {
            let output = dir.path + "/" + target
            let result = try runEmflow(["convert", Self.raw, output])
            #expect(result.status == 0, "\(target): \(result.stderr)")
            let info = try JSONSerialization.jsonObject(with: Data(try runEmflow(["info", output, "--json"]).stdout.utf8)) as? [String: Any]
            #expect((info?["codec"] as? String)?.contains(codec) == true, "\(target): \(info?["codec"] ?? "no info")")
        }
        guard TestEnvironment.python != nil else {
            print("skipped: \(TestEnvironment.pythonMissing)")
            return
        }
        let compression = try runPython("""
        import sys, tifffile, h5py
        with tifffile.TiffFile(sys.argv[1]) as t: print(int(t.pages[0].compression))
        with h5py.File(sys.argv[2], 'r') as f: print(f['volumes/raw'].compression)
        """, [dir.path + "/stack.tif", dir.path + "/out.h5"])
        #expect(compression.split(separator: "\n") == ["1", "gzip"], "\(compression)")
    }

    /// A NaN fill value is written in `info --json` as the Zarr specifications write it.
    @Test func infoJSONWritesNonFiniteFillValues() throws {
        let dir = try TestEnvironment.temporaryDirectory("nan-fill")
        let path = dir.path + "/f.zarr/a"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try #"{"chunks":[2,2,2],"compressor":null,"dtype":"<f4","fill_value":"NaN","filters":null,"order":"C","shape":[2,2,2],"zarr_format":2}"#
            .write(toFile: path + "/.zarray", atomically: true, encoding: .utf8)
        let result = try runEmflow(["info", path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["fill_value"] as? String == "NaN")
    }

    @Test func badInputGivesClearErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory("bad")
        // Volumes of formats mistaken for Zarr are named as what they are.
        try FileManager.default.createDirectory(atPath: dir.path + "/v.n5/raw", withIntermediateDirectories: true)
        try #"{"dimensions": [64, 64, 8], "blockSize": [32, 32, 8], "dataType": "uint8", "compression": {"type": "raw"}}"#
            .write(toFile: dir.path + "/v.n5/raw/attributes.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/pre", withIntermediateDirectories: true)
        try #"{"type": "image", "data_type": "uint8", "num_channels": 1, "scales": [{"key": "4_4_40", "size": [64, 64, 8]}]}"#
            .write(toFile: dir.path + "/pre/info", atomically: true, encoding: .utf8)
        let cases: [(arguments: [String], mentions: [String])] = [
            (["info", dir.path + "/v.n5/raw"], ["an N5 dataset", "not a Zarr array"]),
            (["info", dir.path + "/pre"], ["neuroglancer precomputed"]),
            (["info", dir.path + "/nothing.zarr/raw"], ["nothing.zarr"]),
            (["info", dir.path + "/x.h5"], ["x.h5:volumes/raw"]),
            (["convert", Self.raw, dir.path + "/o.zarr/a", "--codec", "lzma"], ["lzma", "zstd"]),
            (["convert", Self.raw, dir.path + "/o.zarr/b", "--roi", "0:5,0:10"], ["z0:z1,y0:y1,x0:x1"]),
            (["convert", Self.raw, dir.path + "/o.zarr/c", "--roi", "0:50,0:10,0:10"], ["outside", "12,96,80"]),
            (["convert", Self.raw, "/proc/emflow-cannot-write/o.zarr/a"], ["/proc/emflow-cannot-write"]),
            (["generate", dir.path + "/g.txt"], [".zarr or .h5"]),
        ]
        for c in cases {
            let result = try runEmflow(c.arguments)
            #expect(result.status != 0, "\(c.arguments) should fail")
            for word in c.mentions {
                #expect(result.stderr.contains(word), "\(c.arguments): stderr should mention '\(word)': \(result.stderr)")
            }
        }
    }

    /// `kill -9` at several moments during a convert, then the same command again: the result
    /// equals an uninterrupted convert, and a different command refuses the incomplete output.
    @Test func killedConvertResumes() throws {
        let dir = try TestEnvironment.temporaryDirectory("resume")
        let source = dir.path + "/big.zarr"
        #expect(try runEmflow(["generate", source, "--shape", "48,512,512", "--raw-only", "--chunks", "8,128,128", "--seed", "9"]).status == 0)
        let input = source + "/volumes/raw"
        let reference = dir.path + "/reference.zarr/raw"
        #expect(try runEmflow(["convert", input, reference, "--chunks", "4,64,64", "--codec", "gzip", "--memory-mb", "16"]).status == 0)
        let expected = try Stores.open(reference).readAll(as: UInt8.self)

        var interrupted = 0
        for attempt in 0..<3 {
            let output = dir.path + "/killed\(attempt).zarr/raw"
            let arguments = ["convert", input, output, "--chunks", "4,64,64", "--codec", "gzip", "--memory-mb", "16"]
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestEnvironment.emflowBinary)
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(150_000 + attempt * 250_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let journal = try CopyJournal.load(at: Stores.sidecarPath(for: try StoreAddress.parse(output), name: "convert.json"))
            if journal?.isComplete == false { interrupted += 1 }
            if attempt == 0 {
                let other = try runEmflow(["convert", input, output, "--chunks", "8,64,64"])
                #expect(other.status != 0 && other.stderr.contains("overwrite"), "\(other.stderr)")
            }
            let resumed = try runEmflow(arguments)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try Stores.open(output).readAll(as: UInt8.self) == expected)
        }
        #expect(interrupted >= 1, "no kill landed in the middle of a convert: the test did not exercise resuming")
    }
}
