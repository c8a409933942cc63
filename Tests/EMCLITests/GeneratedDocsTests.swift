import Foundation
import Testing
import TestSupport

/// What is generated from the code and committed (README's pipeline reference, the shell
/// completion scripts) equals what the current binary generates.
@Suite("Generated documentation")
struct GeneratedDocsTests {
    static let regenerate = "run `make docs` (or `bash scripts/update-docs.sh .build/debug/emflow`) to regenerate it"

    @Test func readmePipelineReferenceIsCurrent() throws {
        let readme = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = "<!-- pipeline-reference:begin -->\n", end = "<!-- pipeline-reference:end -->"
        let start = try #require(readme.range(of: begin), "README.md has no '\(begin)' marker")
        let stop = try #require(readme.range(of: end, range: start.upperBound..<readme.endIndex), "README.md has no '\(end)' marker after the begin marker")
        let committed = String(readme[start.upperBound..<stop.lowerBound])
        let generated = try runEmflow(["stages", "--markdown"])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(!generated.stdout.isEmpty)
        if committed != generated.stdout {
            Issue.record("README.md's pipeline reference differs from `emflow stages --markdown` (first difference at line \(firstDifferentLine(committed, generated.stdout)) of the section): \(Self.regenerate)")
        }
    }

    @Test(arguments: [("bash", "emflow.bash"), ("zsh", "_emflow"), ("fish", "emflow.fish")])
    func completionScriptIsCurrent(shell: String, file: String) throws {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("completions/\(file)")
        let committed = try String(contentsOf: path, encoding: .utf8)
        let generated = try runEmflow(["--generate-completion-script", shell])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(generated.stdout.contains("stages"), "the \(shell) script does not complete the subcommands")
        if committed != generated.stdout {
            Issue.record("completions/\(file) differs from `emflow --generate-completion-script \(shell)` (first difference at line \(firstDifferentLine(committed, generated.stdout))): \(Self.regenerate)")
        }
    }

    /// The first line number (from 1) where two texts differ.
    private func firstDifferentLine(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false), y = b.split(separator: "\n", omittingEmptySubsequences: false)
        return (zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)) + 1
    }
}

/// Misspelt names on the command line get a "did you mean" with the closest existing name.
@Suite("Suggestions on the command line", .serialized)
struct CommandSuggestionTests {
    static let directory: URL = {
        let directory = try! TestEnvironment.temporaryDirectory("suggest")
        for container in ["g.h5", "g.zarr"] {
            let result = try! runEmflow(["generate", directory.appendingPathComponent(container).path, "--shape", "4,32,32", "--chunks", "4,32,32"])
            precondition(result.status == 0, "emflow generate failed: \(result.stderr)")
        }
        return directory
    }()

    /// `arguments` fail, and stderr holds every one of `mentions`.
    private func expectFailure(_ arguments: [String], mentions: [String]) throws {
        let result = try runEmflow(arguments)
        #expect(result.status != 0, "\(arguments) should fail")
        for text in mentions {
            #expect(result.stderr.contains(text), "\(arguments): stderr should contain \"\(text)\": \(result.stderr)")
        }
    }

    @Test func hdf5DatasetSuggestsTheClosestDataset() throws {
        let file = Self.directory.appendingPathComponent("g.h5").path
        try expectFailure(["info", file + ":volume/raw"], mentions: ["dataset 'volume/raw'", "did you mean '\(file):volumes/raw'?"])
        try expectFailure(["info", file + ":volumes/labels/synapes"], mentions: ["did you mean '\(file):volumes/labels/synapse'?"])
        // Nothing close: the datasets are listed, no guess is made.
        let far = try runEmflow(["info", file + ":segmentation"])
        #expect(far.status != 0 && far.stderr.contains("volumes/raw") && !far.stderr.contains("did you mean"), "\(far.stderr)")
    }

    @Test func zarrArraySuggestsTheClosestArray() throws {
        let root = Self.directory.appendingPathComponent("g.zarr").path
        try expectFailure(["info", root + "/volume/raw"], mentions: ["did you mean '\(root)/volumes/raw'?", "volumes/labels/membrane"])
        try expectFailure(["convert", root + "/volumes/labels/mitochondira", Self.directory.path + "/o.zarr/m"],
                          mentions: ["did you mean '\(root)/volumes/labels/mitochondria'?"])
    }

    @Test func codecSuggestsTheClosestName() throws {
        let input = Self.directory.appendingPathComponent("g.zarr/volumes/raw").path
        try expectFailure(["convert", input, Self.directory.path + "/c.zarr/a", "--codec", "zstdd"],
                          mentions: ["unknown codec 'zstdd'", "did you mean 'zstd'?", "blosc-lz4"])
        try expectFailure(["convert", input, Self.directory.path + "/c.zarr/b", "--codec", "blosc-zstf"], mentions: ["did you mean 'blosc-zstd'?"])
    }

    @Test func misspeltCommandSuggestsTheClosest() throws {
        try expectFailure(["stagse"], mentions: ["unknown command 'stagse'", "did you mean 'stages'?"])
        try expectFailure(["evalute", "--prediction", "p.zarr/a"], mentions: ["did you mean 'evaluate'?"])
        try expectFailure(["frobnicate"], mentions: ["expected one of: info, convert"])
        #expect(try runEmflow(["help", "stages"]).status == 0)
    }

    @Test func stagesCommandShowsKindsAndSuggests() throws {
        let list = try runEmflow(["stages"])
        #expect(list.status == 0, "\(list.stderr)")
        for kind in ["read", "threshold", "components", "predict", "write", "evaluate", "train"] {
            #expect(list.stdout.contains("\n\(kind) ") || list.stdout.hasPrefix("\(kind) "), "`emflow stages` does not list \(kind): \(list.stdout)")
        }
        let threshold = try runEmflow(["stages", "threshold"])
        #expect(threshold.status == 0 && threshold.stdout.contains("Parameters:") && threshold.stdout.contains("  input: "), "\(threshold.stdout)")
        try expectFailure(["stages", "treshold"], mentions: ["unknown stage kind 'treshold'", "did you mean 'threshold'?"])
        try expectFailure(["stages", "threshold", "--markdown"], mentions: ["--markdown"])
    }
}
