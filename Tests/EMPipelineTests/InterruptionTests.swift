import EMVolume
import Foundation
import Testing
import TestSupport

/// `emflow run` as a user runs it, killed with SIGKILL at random moments and run again.
@Suite("Interrupted runs")
struct InterruptionTests {
    /// The counts of `stage`'s line in a printed run summary: done, skipped, failed.
    func counts(_ stage: String, in summary: String) -> [Int]? {
        for line in summary.split(separator: "\n") {
            let cells = line.split(separator: " ")
            if cells.first.map(String.init) == stage, cells.count == 5 { return cells[2...].compactMap { Int($0) } }
        }
        return nil
    }

    /// Number of block events in a JSON-lines events file so far.
    func blockEvents(_ path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"event\":\"block\"") }.count
    }

    /// Starts `emflow` with `arguments` and kills it with SIGKILL once it has reported `blocks`
    /// finished blocks (or when it ends by itself first).
    func killAfter(blocks: Int, _ arguments: [String], events: String) throws {
        try? FileManager.default.removeItem(atPath: events)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.emflowBinary)
        process.arguments = arguments + ["--quiet", "--events", events]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning && blockEvents(events) < blocks { usleep(1000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test("kill -9 at random moments, then run again: output identical to an uninterrupted run")
    func killAndResume() throws {
        let directory = try TestEnvironment.temporaryDirectory("kill")
        let field = smoothField(Coordinate(32, 96, 96), seed: 12)
        let input = directory.path + "/field.zarr/p"
        try writeVolume(field, to: input, chunks: Coordinate(16, 48, 48))
        let pipeline = TestEnvironment.repositoryRoot.appendingPathComponent("pipelines/threshold-components.yaml").path
        func arguments(_ output: String) -> [String] {
            ["run", pipeline, "--set", "input=\(input)", "--set", "output=\(output)", "--set", "block_shape=8,24,24", "--set", "threshold=0.52"]
        }

        let reference = try runEmflow(arguments(directory.path + "/reference.zarr"))
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(counts("save_labels", in: reference.stdout) == [64, 0, 0], "\(reference.stdout)")
        let expectedMask = try readVolume(directory.path + "/reference.zarr/mask", as: UInt8.self)
        let expectedLabels = try readVolume(directory.path + "/reference.zarr/labels", as: UInt64.self)
        #expect(expectedMask == thresholded(field, above: 0.52))

        // 64 blocks are labelled, then written twice (mask and labels): 192 block events.
        var generator = SeededGenerator(seed: 2024)
        var resumedPartway = 0
        for attempt in 0..<5 {
            let output = directory.path + "/killed\(attempt).zarr"
            let events = directory.path + "/events\(attempt).jsonl"
            try killAfter(blocks: Int.random(in: 1...185, using: &generator), arguments(output), events: events)
            if attempt == 4 {
                // Killed again while resuming.
                try killAfter(blocks: Int.random(in: 1...60, using: &generator), arguments(output), events: events)
            }
            let resumed = try runEmflow(arguments(output))
            #expect(resumed.status == 0, "attempt \(attempt): \(resumed.stderr)")
            let passes = ["labels", "save_mask", "save_labels"].compactMap { counts($0, in: resumed.stdout) }
            if passes.contains(where: { $0[0] > 0 && $0[1] > 0 }) { resumedPartway += 1 }
            #expect(try readVolume(output + "/mask", as: UInt8.self) == expectedMask, "attempt \(attempt)")
            #expect(try readVolume(output + "/labels", as: UInt64.self) == expectedLabels, "attempt \(attempt)")
        }
        #expect(resumedPartway >= 2, "too few kills landed in the middle of a pass for the test to prove anything")

        // A changed parameter redoes the blocks of the stages it affects, here all of them.
        let changed = try runEmflow(arguments(directory.path + "/reference.zarr").map { $0 == "threshold=0.52" ? "threshold=0.6" : $0 })
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(counts("save_mask", in: changed.stdout) == [64, 0, 0], "\(changed.stdout)")
        #expect(try readVolume(directory.path + "/reference.zarr/mask", as: UInt8.self) == thresholded(field, above: 0.6))
    }

    @Test("an invalid pipeline: every problem on stderr, exit status 1, nothing written")
    func invalidWritesNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("invalid")
        let input = directory.path + "/in.zarr/raw"
        try writeVolume(Volume<UInt8>(shape: Coordinate(4, 8, 8)), to: input, chunks: Coordinate(4, 8, 8))
        let path = try writePipeline("""
        stages:
          mask:
            kind: threshold
            input: \(input)
            value: abc
          save:
            kind: write
            input: mask
            output: \(directory.path)/out.zarr/mask
            codec: zstandard
        """, in: directory)
        for command in ["validate", "run"] {
            let result = try runEmflow([command, path])
            #expect(result.status == 1)
            #expect(result.stderr.contains("\(path):5: stage 'mask': parameter 'value': expected a number, got 'abc'"), "\(result.stderr)")
            #expect(result.stderr.contains("\(path):10: stage 'save': parameter 'codec': expected one of"), "\(result.stderr)")
            #expect(result.stderr.contains("2 problems found; nothing was run"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/out.zarr"))
        let valid = try runEmflow(["validate", path.replacingOccurrences(of: "pipeline.yaml", with: "absent.yaml")])
        #expect(valid.status == 1 && valid.stderr.contains("pipeline file not found"))
    }
}
