@testable import EMPipeline
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

/// `emflow run --each`: one pipeline over several volumes, each into its own outputs.
@Suite("Batch runs")
struct BatchTests {
    static let shape = Coordinate(6, 20, 18)

    /// Three HDF5 volumes `a`, `b`, `c` (different smooth fields) under `directory/volumes`.
    static func makeVolumes(in directory: URL) throws -> [String: Volume<Float>] {
        try FileManager.default.createDirectory(atPath: directory.path + "/volumes", withIntermediateDirectories: true)
        var fields: [String: Volume<Float>] = [:]
        for (n, name) in ["a", "b", "c"].enumerated() {
            let field = smoothField(shape, seed: UInt64(20 + n))
            try writeVolume(field, to: "\(directory.path)/volumes/\(name).h5:volumes/raw", chunks: Coordinate(3, 10, 9))
            fields[name] = field
        }
        return fields
    }

    static func pipeline(output: String) -> String {
        """
        name: batch-test
        vars:
          input: ~
          name: volume
          out: ~
        execution:
          block_shape: 3,10,9
          workers: 2
        stages:
          mask:
            kind: threshold
            input: ${input}
            value: 0.5
          save:
            kind: write
            input: mask
            output: \(output)
        """
    }

    @Test("a glob runs each volume into its own outputs; a second batch skips them all")
    func globBatch() throws {
        let directory = try TestEnvironment.temporaryDirectory("batch-glob")
        let fields = try Self.makeVolumes(in: directory)
        let file = try writePipeline(Self.pipeline(output: "${out}/${name}.zarr/mask"), in: directory)
        let items = try BatchInputs.expand(directory.path + "/volumes/*.h5:volumes/raw")
        #expect(items.map(\.name) == ["a", "b", "c"])
        #expect(items[1].address == directory.path + "/volumes/b.h5:volumes/raw")
        let runner = BatchRunner(file: file, overrides: [VariableOverride(name: "out", value: directory.path + "/out")])
        let outcomes = try runner.run(items, options: RunOptions(version: "test"))
        #expect(outcomes.map(\.status) == [.done, .done, .done])
        for (name, field) in fields {
            #expect(try readVolume("\(directory.path)/out/\(name).zarr/mask", as: UInt8.self) == thresholded(field, above: 0.5))
        }
        let again = try runner.run(items, options: RunOptions(version: "test"))
        #expect(again.map(\.status) == [.skipped, .skipped, .skipped])
        #expect(BatchRunner.summary(again).contains("3 volumes: 0 done, 3 skipped, 0 failed"))
    }

    @Test("a list with a missing volume: the others are done, the missing one failed")
    func listWithFailure() throws {
        let directory = try TestEnvironment.temporaryDirectory("batch-list")
        let fields = try Self.makeVolumes(in: directory)
        let file = try writePipeline(Self.pipeline(output: "${out}/${name}.zarr/mask"), in: directory)
        let list = directory.path + "/volumes.txt"
        try "# volumes\nvolumes/a.h5:volumes/raw\nvolumes/missing.h5:volumes/raw\n\nvolumes/c.h5:volumes/raw  # last\n"
            .write(toFile: list, atomically: true, encoding: .utf8)
        let items = try BatchInputs.expand("@" + list)
        #expect(items.map(\.name) == ["a", "missing", "c"])
        let outcomes = try BatchRunner(file: file, overrides: [VariableOverride(name: "out", value: directory.path + "/out")])
            .run(items, options: RunOptions(version: "test"))
        #expect(outcomes.map(\.status) == [.done, .failed, .done])
        #expect(outcomes[1].message?.contains("missing.h5") == true)
        #expect(try readVolume("\(directory.path)/out/c.zarr/mask", as: UInt8.self) == thresholded(fields["c"]!, above: 0.5))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/out/missing.zarr"))
    }

    @Test("outputs shared by several volumes are refused before anything runs")
    func collidingOutputs() throws {
        let directory = try TestEnvironment.temporaryDirectory("batch-collide")
        _ = try Self.makeVolumes(in: directory)
        let file = try writePipeline(Self.pipeline(output: "${out}/all.zarr/mask"), in: directory)
        let items = try BatchInputs.expand(directory.path + "/volumes/*.h5:volumes/raw")
        #expect {
            try BatchRunner(file: file, overrides: [VariableOverride(name: "out", value: directory.path + "/out")])
                .run(items, options: RunOptions(version: "test"))
        } throws: { "\($0)".contains("would both write") && "\($0)".contains("${name}") }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/out"))
        #expect(throws: PipelineError.self) { try BatchInputs.expand(directory.path + "/volumes/*.zarr") }
    }

    @Test("emflow run --each prints a batch summary and exits 1 when a volume failed")
    func commandLine() throws {
        let directory = try TestEnvironment.temporaryDirectory("batch-cli")
        _ = try Self.makeVolumes(in: directory)
        let file = try writePipeline(Self.pipeline(output: "${out}/${name}.zarr/mask"), in: directory)
        let ok = try runEmflow(["run", file, "--quiet", "--each", directory.path + "/volumes/*.h5:volumes/raw", "--set", "out=\(directory.path)/out"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("3 volumes: 3 done, 0 skipped, 0 failed"), "\(ok.stdout)")
        let list = directory.path + "/list.txt"
        try "volumes/a.h5:volumes/raw\nvolumes/nothere.h5:volumes/raw\n".write(toFile: list, atomically: true, encoding: .utf8)
        let failed = try runEmflow(["run", file, "--quiet", "--each", "@" + list, "--set", "out=\(directory.path)/out"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("2 volumes: 0 done, 1 skipped, 1 failed"), "\(failed.stdout)")
    }
}
