import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// The hostile cases of issue 16 as a user meets them: the real binary on real files, killed
/// at many moments, run twice at once, given inputs that would destroy or mislead.
@Suite("Nothing lost, nothing silently wrong", .serialized)
struct ReliabilityTests {
    /// A generated 8x64x64 volume (seed 1) and a second one of another seed, same shape.
    static let fixture: URL = {
        let dir = try! TestEnvironment.temporaryDirectory("reliability")
        for (name, seed) in [("a.zarr", "1"), ("b.zarr", "2")] {
            let result = try! runEmflow(["generate", dir.appendingPathComponent(name).path, "--shape", "8,64,64", "--seed", seed, "--chunks", "4,32,32"])
            precondition(result.status == 0, "emflow generate failed: \(result.stderr)")
        }
        return dir
    }()

    static var raw: String { fixture.appendingPathComponent("a.zarr/volumes/raw").path }

    /// Starts `emflow` and returns the running process (output discarded).
    func start(_ arguments: [String], in directory: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.emflowBinary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts `emflow`, kills it with SIGKILL after `milliseconds` (or when it ends first).
    func killed(_ arguments: [String], after milliseconds: Int) throws {
        let process = try start(arguments)
        usleep(useconds_t(milliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func bytes(_ address: String) throws -> [UInt8] {
        try Stores.open(address).readAll(as: UInt8.self).storage
    }

    // MARK: 1, 2: an output that is (or holds) the input, array paths that leave the hierarchy

    @Test func outputThatIsTheInputIsRefusedInEverySpelling() throws {
        let dir = try TestEnvironment.temporaryDirectory("same")
        #expect(try runEmflow(["convert", Self.raw, dir.path + "/c.zarr/volumes/raw"]).status == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.zarr", withDestinationPath: dir.path + "/c.zarr")
        let before = try bytes(dir.path + "/c.zarr/volumes/raw")
        let spellings: [(String, String)] = [
            ("c.zarr/volumes/raw", "c.zarr/volumes/raw"),
            ("c.zarr:volumes/raw", "./c.zarr/volumes/raw"),
            ("c.zarr/volumes/raw", "link.zarr/volumes/raw"),
            ("c.zarr/volumes/raw", "c.zarr/volumes/../volumes/raw/"),
            ("c.zarr/volumes/raw", "c.zarr"),
            ("c.zarr/volumes/raw", "c.zarr/volumes"),
        ]
        for (input, output) in spellings {
            let result = try runEmflow(["convert", input, output, "--overwrite"], currentDirectory: dir)
            #expect(result.status != 0, "convert \(input) \(output) should be refused")
            #expect(result.stderr.contains("destroy the input") || result.stderr.contains("may not leave"), "\(input) -> \(output): \(result.stderr)")
            #expect(!result.stderr.contains("Usage:"), "a refusal is no usage error: \(result.stderr)")
        }
        #expect(try bytes(dir.path + "/c.zarr/volumes/raw") == before)

        // The same in a pipeline: the output spelt differently from the input.
        let pipeline = dir.path + "/p.yaml"
        try "stages:\n  mask: {kind: threshold, input: 'c.zarr:volumes/raw', value: 100}\n  save: {kind: write, input: mask, output: ./c.zarr/volumes/raw, overwrite: true}\n"
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let run = try runEmflow(["run", pipeline], currentDirectory: dir)
        #expect(run.status != 0 && run.stderr.contains("is the input"), "\(run.stderr)")
        #expect(try bytes(dir.path + "/c.zarr/volumes/raw") == before)
    }

    @Test func arrayPathsMayNotLeaveTheirHierarchy() throws {
        let dir = try TestEnvironment.temporaryDirectory("dotdot")
        try "keep".write(toFile: dir.path + "/precious.txt", atomically: true, encoding: .utf8)
        for output in ["o.zarr/..", "o.zarr/a/../..", "o.zarr:../x", "o.zarr/a//b", "o.zarr/./a"] {
            let result = try runEmflow(["convert", Self.raw, output, "--overwrite"], currentDirectory: dir)
            #expect(result.status != 0 && result.stderr.contains(output.contains("//") ? "empty component" : "may not leave"), "\(output): \(result.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: dir.path + "/precious.txt"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/.zgroup"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.zarr").path))
    }

    // MARK: 3: a changed setting killed while it replaces the old output

    /// Convert with a region (another content and shape) over a complete output, killed at
    /// many moments; the original command afterwards never calls a wrong output complete.
    @Test func killedOverwriteNeverLeavesAFalseCompleteConvert() throws {
        let dir = try TestEnvironment.temporaryDirectory("overwrite-kill")
        let source = dir.path + "/big.zarr"
        #expect(try runEmflow(["generate", source, "--shape", "32,256,256", "--raw-only", "--chunks", "8,64,64", "--seed", "5"]).status == 0)
        let input = source + "/volumes/raw"
        let output = dir.path + "/out.zarr/raw"
        let original = ["convert", input, output, "--chunks", "4,32,32", "--codec", "gzip", "--memory-mb", "16"]
        #expect(try runEmflow(original).status == 0)
        let expected = try bytes(output)
        for (attempt, milliseconds) in Array(stride(from: 0, to: 160, by: 6)).enumerated() {
            let changed = ["convert", input, output, "--chunks", "8,32,32", "--roi", "0:16,0:256,0:256", "--memory-mb", "16", "--overwrite"]
            try killed(changed, after: milliseconds)
            let again = try runEmflow(original)
            if again.stdout.contains("already complete") {
                #expect(try bytes(output) == expected, "attempt \(attempt) (\(milliseconds) ms): 'already complete' over another convert's data")
            } else if again.status != 0 {
                #expect(again.stderr.contains("overwrite"), "attempt \(attempt): \(again.stderr)")
                let overwritten = try runEmflow(original + ["--overwrite"])
                #expect(overwritten.status == 0, "attempt \(attempt) (\(milliseconds) ms): \(overwritten.stderr)")
                #expect(try bytes(output) == expected)
            } else {
                #expect(try bytes(output) == expected, "attempt \(attempt): \(again.stdout)")
            }
        }
    }

    func writePipeline(_ dir: URL) throws -> String {
        let path = dir.path + "/threshold.yaml"
        try """
        vars:
          input: ~
          output: ~
          value: 100
          block_shape: 4,32,32
        execution:
          block_shape: ${block_shape}
          workers: 2
        stages:
          mask:
            kind: threshold
            input: ${input}
            value: ${value}
          save:
            kind: write
            input: mask
            output: ${output}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The summary's done, skipped, failed counts of stage `save`.
    func counts(_ summary: String) -> [Int]? {
        for line in summary.split(separator: "\n") {
            let cells = line.split(separator: " ")
            if cells.first == "save", cells.count == 5 { return cells[2...].compactMap { Int($0) } }
        }
        return nil
    }

    @Test func killedChangedRunNeverLeavesFalseDoneMarkers() throws {
        let dir = try TestEnvironment.temporaryDirectory("run-kill")
        let source = dir.path + "/in.zarr"
        #expect(try runEmflow(["generate", source, "--shape", "32,256,256", "--raw-only", "--chunks", "4,64,64", "--seed", "6"]).status == 0)
        let pipeline = try writePipeline(dir)
        let output = dir.path + "/out.zarr/mask"
        func run(_ value: Int) -> [String] {
            ["run", pipeline, "--set", "input=\(source)/volumes/raw", "--set", "output=\(output)", "--set", "value=\(value)", "--set", "block_shape=4,64,64"]
        }
        let first = try runEmflow(run(100))
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try bytes(output)
        for milliseconds in [0, 10, 30, 60, 100, 200, 400] {
            try killed(run(150), after: milliseconds)
            let again = try runEmflow(run(100))
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try bytes(output) == expected, "after a kill at \(milliseconds) ms the original setting left a wrong mask: \(again.stdout)")
        }
    }

    // MARK: 4: two processes on one output

    @Test(arguments: [(100, 100), (100, 150)])
    func concurrentRunsNeverMix(first: Int, second: Int) throws {
        let dir = try TestEnvironment.temporaryDirectory("concurrent")
        let source = dir.path + "/in.zarr"
        #expect(try runEmflow(["generate", source, "--shape", "32,256,256", "--raw-only", "--chunks", "4,64,64", "--seed", "7"]).status == 0)
        let pipeline = try writePipeline(dir)
        @Sendable func arguments(_ value: Int, _ output: String) -> [String] {
            ["run", pipeline, "--set", "input=\(source)/volumes/raw", "--set", "output=\(output)", "--set", "value=\(value)", "--set", "block_shape=4,64,64"]
        }
        var expected: [Int: [UInt8]] = [:]
        for value in Set([first, second]) {
            #expect(try runEmflow(arguments(value, dir.path + "/ref\(value).zarr/mask")).status == 0)
            expected[value] = try bytes(dir.path + "/ref\(value).zarr/mask")
        }
        let output = dir.path + "/out.zarr/mask"
        for round in 0..<3 {
            let group = DispatchGroup()
            nonisolated(unsafe) var results: [Int: ProcessResult] = [:]
            let lock = NSLock()
            for (index, value) in [first, second].enumerated() {
                group.enter()
                DispatchQueue.global().async {
                    let result = try? runEmflow(arguments(value, output))
                    lock.lock()
                    results[index] = result
                    lock.unlock()
                    group.leave()
                }
            }
            group.wait()
            var succeeded = 0
            for (index, result) in results.sorted(by: { $0.key < $1.key }) {
                if result.status == 0 {
                    succeeded += 1
                } else {
                    #expect(result.stderr.contains("in use by process"), "round \(round), run \(index): \(result.stderr)")
                    #expect(!result.stderr.contains("not written by emflow"), "a false 'not written by emflow': \(result.stderr)")
                }
            }
            #expect(succeeded >= 1, "round \(round): neither run succeeded")
            // Whichever wrote last, the output is wholly that setting's and a re-run of it skips every block.
            let matches = expected.filter { $0.value == (try? bytes(output)) }.map(\.key)
            #expect(matches.count >= 1, "round \(round): the output is a mix of both settings")
            if let value = matches.first {
                let again = try runEmflow(arguments(value, output))
                #expect(counts(again.stdout) == [0, 128, 0], "round \(round): \(again.stdout)")
            }
        }
    }

    @Test(arguments: [false, true])
    func concurrentConvertsNeverMix(sameSettings: Bool) throws {
        let dir = try TestEnvironment.temporaryDirectory("concurrent-convert")
        let source = dir.path + "/in.zarr"
        #expect(try runEmflow(["generate", source, "--shape", "64,512,512", "--raw-only", "--chunks", "8,128,128", "--seed", "8"]).status == 0)
        let output = dir.path + "/out.zarr/raw"
        let settings = sameSettings ? [["--codec", "gzip"], ["--codec", "gzip"]] : [["--codec", "gzip"], ["--codec", "zstd", "--roi", "0:32,0:512,0:512"]]
        for round in 0..<3 {
            try? FileManager.default.removeItem(atPath: dir.path + "/out.zarr")
            let group = DispatchGroup()
            nonisolated(unsafe) var results: [Int: ProcessResult] = [:]
            let lock = NSLock()
            for (index, extra) in settings.enumerated() {
                group.enter()
                DispatchQueue.global().async {
                    let result = try? runEmflow(["convert", source + "/volumes/raw", output, "--chunks", "4,32,32", "--memory-mb", "16", "--overwrite"] + extra)
                    lock.lock()
                    results[index] = result
                    lock.unlock()
                    group.leave()
                }
            }
            group.wait()
            for (index, result) in results where result.status != 0 {
                #expect(result.stderr.contains("in use by process"), "round \(round), convert \(index): \(result.stderr)")
            }
            // The output is one convert's whole result: its codec and every chunk decode.
            let store = try Stores.open(output)
            let full = try Stores.open(source + "/volumes/raw")
            let region = store.metadata.shape.z == 64 ? full.metadata.bounds : try Box.parse("0:32,0:512,0:512")
            #expect(try store.readAll(as: UInt8.self).storage == full.read(region, as: UInt8.self).storage, "round \(round)")
            #expect(Stores.incompleteness(of: store.address) == nil)
        }
    }

    // MARK: 5: an input regenerated at the same address

    @Test func regeneratedInputIsNoticed() throws {
        let dir = try TestEnvironment.temporaryDirectory("regenerated")
        let source = dir.path + "/in.zarr"
        let pipeline = try writePipeline(dir)
        func arguments(_ output: String) -> [String] {
            ["run", pipeline, "--set", "input=\(source)/volumes/raw", "--set", "output=\(output)"]
        }
        #expect(try runEmflow(["generate", source, "--shape", "8,64,64", "--raw-only", "--chunks", "4,32,32", "--seed", "1"]).status == 0)
        let output = dir.path + "/out.zarr/mask"
        #expect(try runEmflow(arguments(output)).status == 0)
        #expect(counts(try runEmflow(arguments(output)).stdout) == [0, 8, 0])
        #expect(try runEmflow(["generate", source, "--shape", "8,64,64", "--raw-only", "--chunks", "4,32,32", "--seed", "2", "--overwrite"]).status == 0)
        let again = try runEmflow(arguments(output))
        #expect(counts(again.stdout) == [8, 0, 0], "the regenerated input was not noticed: \(again.stdout)")
        #expect(try runEmflow(arguments(dir.path + "/fresh.zarr/mask")).status == 0)
        #expect(try bytes(output) == bytes(dir.path + "/fresh.zarr/mask"))
    }

    // MARK: 7: incomplete and damaged inputs

    @Test func killedGenerateIsReportedRefusedAndResumed() throws {
        let dir = try TestEnvironment.temporaryDirectory("generate-kill")
        let reference = dir.path + "/ref.zarr"
        let arguments = ["--shape", "32,256,256", "--chunks", "4,64,64", "--seed", "4"]
        #expect(try runEmflow(["generate", reference] + arguments).status == 0)
        var sawIncomplete = false
        for milliseconds in [150, 300, 600] {
            let output = dir.path + "/g\(milliseconds).zarr"
            try killed(["generate", output] + arguments, after: milliseconds)
            guard let info = try? runEmflow(["info", output + "/volumes/raw"]), info.status == 0 else { continue }
            if info.stdout.contains("INCOMPLETE") {
                sawIncomplete = true
                #expect(info.stdout.contains("emflow generate"), "\(info.stdout)")
                let pipeline = try writePipeline(dir)
                let run = try runEmflow(["run", pipeline, "--set", "input=\(output)/volumes/raw", "--set", "output=\(dir.path)/o.zarr/m"])
                #expect(run.status != 0 && run.stderr.contains("is incomplete"), "\(run.stderr)")
                let evaluate = try runEmflow(["evaluate", "--prediction", output + "/volumes/raw", "--truth", reference + "/volumes/labels/synapse"])
                #expect(evaluate.status != 0 && evaluate.stderr.contains("is incomplete"), "\(evaluate.stderr)")
            }
            let resumed = try runEmflow(["generate", output] + arguments)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            for key in ["volumes/raw", "volumes/labels/synapse"] {
                #expect(try bytes(output + "/" + key) == bytes(reference + "/" + key), "\(milliseconds) ms: \(key)")
            }
            #expect(try !runEmflow(["info", output + "/volumes/raw"]).stdout.contains("INCOMPLETE"))
        }
        #expect(sawIncomplete, "no kill landed while generate was writing: the test did not exercise it")
    }

    @Test func damagedHDF5ChunkIndexIsRefused() throws {
        guard TestEnvironment.python != nil else {
            print("skipped: \(TestEnvironment.pythonMissing)")
            return
        }
        let dir = try TestEnvironment.temporaryDirectory("hdf5-damaged")
        let file = dir.path + "/d.h5"
        // Scramble the coordinates stored in the chunk B-tree (keys after the node header).
        try runPython("""
        import h5py, numpy as np, re, sys
        path = sys.argv[1]
        with h5py.File(path, 'w') as f:
            f.create_dataset('raw', data=(np.arange(8*64*64) % 251).astype('u1').reshape(8, 64, 64), chunks=(4, 32, 32), compression='gzip')
        b = bytearray(open(path, 'rb').read())
        i = [m.start() for m in re.finditer(b'TREE', b) if b[m.start() + 4] == 1][0]
        for k in range(i + 24, i + 24 + 40 * 8): b[k] ^= 0x5a
        open(path, 'wb').write(b)
        """, [file])
        let result = try runEmflow(["convert", file + ":raw", dir.path + "/o.zarr/raw"])
        #expect(result.status != 0 && result.stderr.contains("damaged"), "\(result.stderr)")
        #expect(!result.stderr.contains("run the same command again"), "\(result.stderr)")
    }

    // MARK: 8, 9: metadata that lies

    @Test func impossibleMetadataGivesErrorsNotCrashes() throws {
        let dir = try TestEnvironment.temporaryDirectory("metadata")
        func array(_ name: String, shape: String, chunks: String, fill: String, format: Int = 2) throws -> String {
            let path = dir.path + "/m.zarr/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if format == 2 {
                try """
                {"chunks":\(chunks),"compressor":null,"dtype":"|u1","fill_value":\(fill),"filters":null,"order":"C","shape":\(shape),"zarr_format":2}
                """.write(toFile: path + "/.zarray", atomically: true, encoding: .utf8)
            } else {
                try """
                {"zarr_format":3,"node_type":"array","shape":\(shape),"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":\(chunks)}},"chunk_key_encoding":{"name":"default"},"fill_value":\(fill),"codecs":[{"name":"bytes"}]}
                """.write(toFile: path + "/zarr.json", atomically: true, encoding: .utf8)
            }
            return path
        }
        let cases: [(String, [String])] = [
            (try array("huge", shape: "[1000000000000,1000000000000,1000000000000]", chunks: "[64,64,64]", fill: "0"), ["64 bits"]),
            (try array("bigchunks", shape: "[10,10,10]", chunks: "[100000,100000,100000]", fill: "0"), ["2 GiB"]),
            (try array("fill", shape: "[4,4,4]", chunks: "[4,4,4]", fill: "100000", format: 3), ["fill_value", "uint8"]),
            (try array("negative", shape: "[4,4,4]", chunks: "[4,4,4]", fill: "-1", format: 3), ["fill_value", "uint8"]),
            (try array("fraction", shape: "[4,4,4]", chunks: "[4,4,4]", fill: "1.5"), ["fill_value"]),
        ]
        for (path, words) in cases {
            for command in [["info", path], ["convert", path, dir.path + "/o.zarr/x"]] {
                let result = try runEmflow(command)
                #expect(result.status != 0, "\(command)")
                #expect(!result.stderr.contains("crashed") && !result.stderr.contains("Fatal error"), "\(command): \(result.stderr)")
                for word in words { #expect(result.stderr.contains(word), "\(command): \(result.stderr)") }
            }
        }
        // A block shape no machine holds is refused at validation, not by the allocator (with
        // edge_fit: shrink the blocks are cut to the volume and fit).
        let pipeline = try writePipeline(dir)
        let text = try String(contentsOfFile: pipeline, encoding: .utf8).replacingOccurrences(of: "  workers: 2\n", with: "  workers: 2\n  edge_fit: overhang\n")
        try text.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let result = try runEmflow(["run", pipeline, "--set", "input=\(Self.raw)", "--set", "output=\(dir.path)/o.zarr/m", "--set", "block_shape=4000,4000,4000"])
        #expect(result.status != 0 && result.stderr.contains("needs at least") && result.stderr.contains("block_shape"), "\(result.stderr)")
    }

    // MARK: 10: YAML that would exhaust the parser

    @Test func hostileYAMLIsRefusedQuickly() throws {
        let dir = try TestEnvironment.temporaryDirectory("yaml")
        let deep = dir.path + "/deep.yaml"
        try ("stages: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n").write(toFile: deep, atomically: true, encoding: .utf8)
        let deepResult = try runEmflow(["validate", deep])
        #expect(deepResult.status == 1 && deepResult.stderr.contains("deep.yaml:1:") && deepResult.stderr.contains("nesting deeper"), "\(deepResult.stderr)")

        let indented = dir.path + "/indented.yaml"
        try ("stages:\n" + (1...200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + "\n")
            .write(toFile: indented, atomically: true, encoding: .utf8)
        let indentedResult = try runEmflow(["validate", indented])
        #expect(indentedResult.status == 1 && indentedResult.stderr.contains("nesting deeper"), "\(indentedResult.stderr)")

        var bomb = "vars:\n"
        for level in stride(from: 40, to: 0, by: -1) { bomb += "  v\(level): \"${v\(level - 1)}${v\(level - 1)}\"\n" }
        bomb += "  v0: \"xxxxxxxxxxxxxxxx\"\nstages:\n  a: {kind: threshold, input: \"x.zarr/${v40}\", value: 1}\n  w: {kind: write, input: a, output: o.zarr/q}\n"
        let bombPath = dir.path + "/bomb.yaml"
        try bomb.write(toFile: bombPath, atomically: true, encoding: .utf8)
        let start = Date()
        let bombResult = try runEmflow(["validate", bombPath])
        #expect(bombResult.status == 1 && bombResult.stderr.contains("expands to more than"), "\(bombResult.stderr.prefix(500))")
        // Not a timing assertion on speed: a generous bound that only an exponential expansion misses.
        #expect(Date().timeIntervalSince(start) < 60)

        var many = "vars: {input: ~}\nstages:\n  s0: {kind: threshold, input: \"${input}\", value: 100}\n"
        for i in 1..<5000 { many += "  s\(i): {kind: mask, input: s\(i - 1), mask: s\(i - 1)}\n" }
        many += "  w: {kind: write, input: s4999, output: \(dir.path)/many.zarr/q}\n"
        let manyPath = dir.path + "/many.yaml"
        try many.write(toFile: manyPath, atomically: true, encoding: .utf8)
        let manyResult = try runEmflow(["validate", manyPath, "--set", "input=\(Self.raw)"])
        #expect(manyResult.status == 0, "\(manyResult.stderr.prefix(500))")
    }

    // MARK: 6, 8: training

    func trainingConfiguration(_ output: String, extra: String = "", steps: Int = 12) -> String {
        let volume = Self.fixture.appendingPathComponent("a.zarr").path
        return """
        raw: \(volume)/volumes/raw
        label: \(volume)/volumes/labels/synapse
        patch_shape: [2, 16, 16]
        batch_size: 1
        steps: \(steps)
        seed: 3
        threads: 1
        checkpoint_every: 1
        output: \(output)
        network: {input_channels: 1, output_channels: 1, depth: 2, base_width: 4, width_multiplier: 2, kernel_sizes: [[1, 3, 3], [1, 3, 3]], pooling_factors: [[1, 2, 2]], convolutions_per_level: 1, padding: same}
        \(extra)
        """
    }

    @Test func badLearningRatesAndDivergenceAreNamed() throws {
        let dir = try TestEnvironment.temporaryDirectory("train-bad")
        for rate in ["-0.001", ".nan", "0"] {
            let path = dir.path + "/lr.yaml"
            try trainingConfiguration(dir.path + "/out", extra: "optimizer: {learning_rate: \(rate), beta1: 0.9, beta2: 0.999, epsilon: 1.0e-8, weight_decay: 0}").write(toFile: path, atomically: true, encoding: .utf8)
            let result = try runEmflow(["train", path, "--quiet"])
            #expect(result.status != 0 && result.stderr.contains("optimizer.learning_rate"), "\(rate): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/last"), "\(rate) trained anyway")
        }
        let path = dir.path + "/diverge.yaml"
        try trainingConfiguration(dir.path + "/diverge", extra: "optimizer: {learning_rate: 3.0e+38, beta1: 0.9, beta2: 0.999, epsilon: 1.0e-8, weight_decay: 0}", steps: 30).write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runEmflow(["train", path, "--quiet"])
        #expect(result.status != 0 && result.stderr.contains("the loss became NaN at step"), "\(result.stderr)")
        #expect(!result.stderr.contains("JSON"), "\(result.stderr)")
    }

    /// Training killed at many moments (the first 100 ms included) and resumed from `last/`:
    /// every resume either refuses a torn checkpoint or ends with the uninterrupted weights.
    @Test func killedTrainingResumesToTheSameWeights() throws {
        let dir = try TestEnvironment.temporaryDirectory("train-kill")
        let referencePath = dir.path + "/reference.yaml"
        try trainingConfiguration(dir.path + "/reference").write(toFile: referencePath, atomically: true, encoding: .utf8)
        let reference = try runEmflow(["train", referencePath, "--quiet"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/reference/last/model.safetensors"))
        for (attempt, milliseconds) in [30, 80, 150, 250, 400, 600, 900].enumerated() {
            let output = dir.path + "/run\(attempt)"
            let path = dir.path + "/run\(attempt).yaml"
            try trainingConfiguration(output).write(toFile: path, atomically: true, encoding: .utf8)
            try killed(["train", path, "--quiet"], after: milliseconds)
            let last = output + "/last"
            let resumable = FileManager.default.fileExists(atPath: last) || FileManager.default.fileExists(atPath: output + "/.emflow-old-last")
            let result = try runEmflow(["train", path, "--quiet"] + (resumable ? ["--resume", last] : []))
            if result.status != 0 {
                #expect(result.stderr.contains("torn") || result.stderr.contains("incomplete"), "attempt \(attempt): \(result.stderr)")
                continue
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: last + "/model.safetensors")) == expected,
                    "attempt \(attempt) (killed after \(milliseconds) ms, resumed: \(resumable)) ended with other weights")
        }
    }

    @Test func identicalWeightsGiveIdenticalCheckpointBytes() throws {
        let dir = try TestEnvironment.temporaryDirectory("train-bytes")
        var files: [Data] = []
        for run in 0..<2 {
            let path = dir.path + "/t\(run).yaml"
            try trainingConfiguration(dir.path + "/out\(run)", steps: 2).write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try runEmflow(["train", path, "--quiet"]).status == 0)
            files.append(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/out\(run)/last/model.safetensors")))
        }
        #expect(files[0] == files[1])
    }

    // MARK: 12: messages and leftovers

    @Test func messagesNameTheRealProblem() throws {
        let dir = try TestEnvironment.temporaryDirectory("messages")
        let big = dir.path + "/big.h5"
        #expect(try runEmflow(["generate", big, "--shape", "4,1024,1024", "--raw-only", "--chunks", "4,256,256"]).status == 0)
        // TIFF is written in whole sections whatever the memory budget.
        let tiff = try runEmflow(["convert", big + ":volumes/raw", dir.path + "/s.tif", "--memory-mb", "16", "--codec", "raw"])
        #expect(tiff.status == 0, "\(tiff.stderr)")
        #expect(try bytes(dir.path + "/s.tif") == bytes(big + ":volumes/raw"))

        // A negative threshold is a number, not an option.
        let evaluate = try runEmflow(["evaluate", "--prediction", Self.raw, "--truth", Self.fixture.path + "/a.zarr/volumes/labels/synapse", "--threshold", "-1"])
        #expect(evaluate.status == 0 && evaluate.stdout.contains("at threshold -1"), "\(evaluate.stderr)")

        // Events that cannot be written fail the run (and /dev/full stays a device: the events
        // file is opened, not replaced by a rename).
        let pipeline = try writePipeline(dir)
        var device = stat()
        if stat("/dev/full", &device) == 0, (device.st_mode & S_IFMT) == S_IFCHR {
            let full = try runEmflow(["run", pipeline, "--set", "input=\(Self.raw)", "--set", "output=\(dir.path)/o.zarr/m", "--events", "/dev/full"])
            #expect(full.status != 0 && full.stderr.contains("No space left on device"), "\(full.stderr)")
            #expect(stat("/dev/full", &device) == 0 && (device.st_mode & S_IFMT) == S_IFCHR, "the run replaced /dev/full")
        } else {
            print("skipped: /dev/full is not the full device on this machine")
        }

        // A training output that is a file.
        let file = dir.path + "/afile"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let config = dir.path + "/t.yaml"
        try trainingConfiguration(file, steps: 1).write(toFile: config, atomically: true, encoding: .utf8)
        let train = try runEmflow(["train", config, "--quiet"])
        #expect(train.status != 0 && train.stderr.contains("is a file") && !train.stderr.contains("NSCocoaErrorDomain"), "\(train.stderr)")

        // A work_dir whose parent does not exist is not created.
        let work = try String(contentsOfFile: pipeline, encoding: .utf8).replacingOccurrences(of: "  workers: 2\n", with: "  workers: 2\n  work_dir: \(dir.path)/no/such/work\n")
        try work.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let validate = try runEmflow(["validate", pipeline, "--set", "input=\(Self.raw)", "--set", "output=\(dir.path)/o.zarr/m"])
        #expect(validate.status != 0 && validate.stderr.contains("work_dir") && validate.stderr.contains("does not exist"), "\(validate.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/no"))
    }

    @Test func abandonedTIFFStagingIsNamedAndFullDisksSaySo() throws {
        let dir = try TestEnvironment.temporaryDirectory("tiff-left")
        let big = dir.path + "/big.zarr"
        #expect(try runEmflow(["generate", big, "--shape", "64,512,512", "--raw-only", "--chunks", "8,512,512"]).status == 0)
        let output = dir.path + "/s.tif"
        var staged = false
        for milliseconds in [100, 200, 400] where !staged {
            try killed(["convert", big + "/volumes/raw", output, "--codec", "raw", "--memory-mb", "16"], after: milliseconds)
            staged = FileManager.default.fileExists(atPath: dir.path + "/.s.tif.emflow-staging") && !FileManager.default.fileExists(atPath: output)
            if !staged { try? FileManager.default.removeItem(atPath: output) }
        }
        if staged {
            let other = try runEmflow(["convert", big + "/volumes/raw", output, "--codec", "raw", "--roi", "0:8,0:512,0:512"])
            #expect(other.status != 0 && other.stderr.contains("emflow-staging") && other.stderr.contains("overwrite"), "\(other.stderr)")
        } else {
            print("note: no kill landed while the TIFF was staged; the staging message was not exercised")
        }

        // A full disk while libtiff assembles the file: a tmpfs of 6 MiB for a 4 MiB stack
        // (its staged sections fit, the assembled file does not). Needs root for mount.
        let tiny = dir.path + "/tiny"
        try FileManager.default.createDirectory(atPath: tiny, withIntermediateDirectories: true)
        guard getuid() == 0, (try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", tiny]))?.status == 0 else {
            print("skipped: the full-disk case needs root to mount a small tmpfs")
            return
        }
        defer { _ = try? runProcess("/bin/umount", [tiny]) }
        let source = dir.path + "/four.h5"
        #expect(try runEmflow(["generate", source, "--shape", "4,1024,1024", "--raw-only", "--chunks", "4,256,256"]).status == 0)
        let result = try runEmflow(["convert", source + ":volumes/raw", tiny + "/s.tif", "--codec", "raw"])
        #expect(result.status != 0 && result.stderr.contains("No space left on device"), "\(result.stderr)")
    }
}
