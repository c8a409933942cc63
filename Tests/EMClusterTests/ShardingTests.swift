@testable import EMCluster
import EMPipeline
import Foundation
import Testing
import TestSupport

/// The partition of blocks into shards and the Slurm batch script, without a cluster.
@Suite("Sharding")
struct ShardingTests {
    @Test("shards partition every block list exactly, in contiguous runs of balanced size")
    func partition() throws {
        for total in 0...40 {
            for count in 1...7 {
                var seen = [Int](repeating: 0, count: total)
                var sizes: [Int] = []
                for index in 0..<count {
                    let range = try BlockShard(index: index, count: count).blocks(of: total)
                    for id in range { seen[id] += 1 }
                    sizes.append(range.count)
                }
                #expect(seen.allSatisfy { $0 == 1 }, "\(total) blocks in \(count) shards")
                #expect(sizes.max()! - sizes.min()! <= 1, "\(total) blocks in \(count) shards: sizes \(sizes)")
            }
        }
    }

    @Test("INDEX/COUNT parses; other text is refused with the expected form")
    func parse() throws {
        let shard = try BlockShard.parse("2/4")
        #expect(shard.index == 2 && shard.count == 4)
        for bad in ["4/4", "-1/4", "a/2", "1/0", "1", "1/2/3"] {
            #expect(throws: PipelineError.self, "\(bad)") { try BlockShard.parse(bad) }
        }
    }

    @Test("the array script runs the command with the task number substituted and arguments quoted")
    func arrayScript() throws {
        let directory = try TestEnvironment.temporaryDirectory("sbatch-script")
        let command = JobCommand(name: "t", arguments: ["/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "--shard", "\(JobCommand.taskToken)/4", "it's a $HOME"],
                                 workingDirectory: directory.path, log: directory.path + "/log-\(JobCommand.taskToken).txt", script: "")
        let backend = SlurmBackend(resources: .init(partition: "gpu", time: "1:00:00", memory: "4G", extra: ["--gres=gpu:1"]))
        let script = backend.script(command, options: ["--array=0-3"], task: "${SLURM_ARRAY_TASK_ID}", log: "%a")
        for line in ["#SBATCH --array=0-3", "#SBATCH --partition=gpu", "#SBATCH --time=1:00:00", "#SBATCH --mem=4G",
                     "#SBATCH --gres=gpu:1", "#SBATCH --output=\(directory.path)/log-%a.txt", "#SBATCH --chdir=\(directory.path)"] {
            #expect(script.contains(line + "\n"), "missing \(line) in:\n\(script)")
        }
        let path = directory.appendingPathComponent("job.sh").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runProcess("/bin/bash", [path], environment: ["SLURM_ARRAY_TASK_ID": "3"])
        #expect(result.stdout == "--shard|3/4|it's a $HOME|", "\(result.stdout) \(result.stderr)")
    }
}
