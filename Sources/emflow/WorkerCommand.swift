import ArgumentParser
import EMCluster
import EMPipeline
import Foundation

/// `emflow worker --task SPEC --shard I/N`: one array task of a submitted run.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one shard of a submitted pipeline (what `emflow submit` puts in each array task).",
        discussion: "Writes the shard's blocks that are not yet done and a report into the run directory; exit status 1 when a block failed."
    )

    @Option(help: ArgumentHelp("The task file (RUN_DIR/task.json).", valueName: "file"))
    var task: String

    @Option(help: ArgumentHelp("This worker's shard, INDEX/COUNT (e.g. $SLURM_ARRAY_TASK_ID/4).", valueName: "i/n"))
    var shard: BlockShard

    func run() throws {
        try runReporting("worker") {
            try ClusterRun.runWorker(taskPath: task, shard: shard, options: RunOptions(version: EMFlowVersion.current))
        }
    }
}

/// `emflow finalize --task SPEC`: the job that runs after every worker succeeded.
struct FinalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Finish a submitted pipeline after its workers: cross-block merges and provenance.",
        discussion: "An ordinary run of the task that skips the blocks the workers did; exit status 1 when a block failed."
    )

    @Option(help: ArgumentHelp("The task file (RUN_DIR/task.json).", valueName: "file"))
    var task: String

    func run() throws {
        try runReporting("finalize") {
            try ClusterRun.runFinalize(taskPath: task, options: RunOptions(version: EMFlowVersion.current))
        }
    }
}
