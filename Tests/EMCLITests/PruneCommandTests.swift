import Foundation
import Testing
import TestSupport

/// `emflow train` with a `pruning:` block, then `emflow compact`, as a user runs them.
@Suite("Pruned training and compaction commands", .serialized)
struct PruneCommandTests {
    let train = TrainCommandTests()

    func pruning(_ method: String, steps: Int = 8) -> String {
        """
        pruning:
          method: \(method)
          target_density: 0.3
          warmup: 2
          refresh_every: 2
          ramp_steps: 4
        """
    }

    @Test func trainsPrunedThenCompacts() throws {
        let output = try TestEnvironment.temporaryDirectory("prune-cli")
        let text = train.config(output, extra: pruning("bb-both")).replacingOccurrences(of: "steps: 3", with: "steps: 8")
        let result = try runEmflow(["train", try train.write(text), "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let refreshes = try train.logLines(output).compactMap { $0["pruning"] as? [String: Any] }
        #expect(refreshes.map { $0["step"] as? Int } == [2, 4, 6, 8])
        let final = refreshes.last!
        let kept = final["keptSlabs"] as! Int, prunable = final["prunableSlabs"] as! Int
        #expect(abs(Double(kept) - 0.3 * Double(prunable)) <= 1)
        #expect(final["entropy"] as? Double != nil && final["units"] as? [[String: Any]] != nil)
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("balance.svg").path))

        let compacted = output.appendingPathComponent("compacted")
        let compact = try runEmflow(["compact", output.appendingPathComponent("last").path, compacted.path,
                                     "--patch", "2,16,16", "--time", "2", "--threads", "1", "--json"])
        #expect(compact.status == 0, "\(compact.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(compact.stdout.utf8)) as! [String: Any]
        #expect((summary["flopsAfter"] as! Double) <= (summary["flopsBefore"] as! Double))
        #expect(summary["millisecondsAfter"] as? Double != nil)
        for file in ["config.json", "model.safetensors", "compaction.json"] {
            #expect(FileManager.default.fileExists(atPath: compacted.appendingPathComponent(file).path), "\(file)")
        }
        let missing = try runEmflow(["compact", output.appendingPathComponent("nowhere").path, compacted.path])
        #expect(missing.status == 1 && missing.stderr.contains("nowhere"))

        // The masked checkpoint and its compacted export timed in one run: same patch, the first is the reference.
        let last = output.appendingPathComponent("last").path
        let bench = try runEmflow(["bench", "models", last, compacted.path, "--patch", "2,16,16", "--rounds", "2", "--threads", "1", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let timing = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as! [String: Any]
        let models = timing["models"] as! [[String: Any]]
        #expect(models.map { $0["checkpoint"] as? String } == [last, compacted.path])
        #expect(models[0]["speedup"] as? Double == 1)
        #expect((models[1]["flops"] as! Double) == (summary["flopsAfter"] as! Double))
        #expect(models.allSatisfy { ($0["milliseconds"] as! Double) > 0 })
        let absent = try runEmflow(["bench", "models", last, output.appendingPathComponent("nowhere").path])
        #expect(absent.status == 1 && absent.stderr.contains("nowhere") && absent.stderr.contains("no such checkpoint directory"),
                "\(absent.stderr)")
    }

    @Test func badPruningBlocksGiveClearErrors() throws {
        let output = try TestEnvironment.temporaryDirectory("prune-bad")
        let cases: [(extra: String, mentions: [String])] = [
            (pruning("bb-sideways"), ["unknown pruning method 'bb-sideways'", "bb-both"]),
            (pruning("magnitude").replacingOccurrences(of: "target_density: 0.3", with: "target_densty: 0.3"),
             ["unknown key 'target_densty' in 'pruning'", "target_density"]),
            (pruning("random").replacingOccurrences(of: "target_density: 0.3", with: "target_density: 1.5"), ["pruning.target_density", "(0, 1]"]),
            (pruning("bb-in").replacingOccurrences(of: "ramp_steps: 4", with: "ramp_steps: 40"), ["pruning.warmup", "exceeds the run's 3 steps"]),
        ]
        for (extra, mentions) in cases {
            let result = try runEmflow(["train", try train.write(train.config(output, extra: extra)), "--quiet"])
            #expect(result.status == 1)
            for mention in mentions { #expect(result.stderr.contains(mention), "expected '\(mention)' in: \(result.stderr)") }
        }
    }
}
