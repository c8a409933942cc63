import EMPipeline
import EMStorage
import Foundation

/// The resolved task of a cluster run, written as JSON into its run directory: the pipeline's
/// text as submitted, its variable overrides, where it runs and with which emflow. Workers and
/// the finalize job load the pipeline from here, so editing the file after submitting changes
/// nothing in a run.
public struct TaskSpec: Codable, Sendable {
    /// The pipeline file as given (named in messages).
    public var pipelineFile: String
    /// The pipeline's YAML text at submission.
    public var yaml: String
    /// `--set` overrides, `name=value`.
    public var overrides: [String]
    /// The directory relative paths in the pipeline are resolved against.
    public var workingDirectory: String
    /// The run directory (absolute).
    public var runDirectory: String
    /// How many shards the blocks are split into.
    public var shards: Int
    /// The emflow executable the jobs run (absolute).
    public var executable: String
    /// The emflow version that submitted the run.
    public var version: String

    /// The file name of the task in the run directory.
    public static let fileName = "task.json"

    /// Creates a task.
    public init(pipelineFile: String, yaml: String, overrides: [String], workingDirectory: String, runDirectory: String,
                shards: Int, executable: String, version: String) {
        self.pipelineFile = pipelineFile
        self.yaml = yaml
        self.overrides = overrides
        self.workingDirectory = workingDirectory
        self.runDirectory = runDirectory
        self.shards = shards
        self.executable = executable
        self.version = version
    }

    /// Reads a task file.
    ///
    /// - Throws: `ClusterError.runDirectory` when it is missing or not a task.
    public static func read(_ path: String) throws -> TaskSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterError.runDirectory(path: path, reason: "no task file here (expected the \(fileName) that `emflow submit` writes)")
        }
        do { return try JSONDecoder().decode(TaskSpec.self, from: data) } catch {
            throw ClusterError.runDirectory(path: path, reason: "not an emflow task file (\(error))")
        }
    }

    /// Writes the task (atomically), with the resolved pipeline added for readers.
    func write(to path: String, resolved pipeline: Pipeline) throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        object["resolved_pipeline"] = pipeline.resolvedObject
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), to: path)
    }

    /// Loads and validates the pipeline, after making `workingDirectory` the current directory
    /// (the pipeline's relative paths mean what they meant at submission).
    ///
    /// - Throws: `ClusterError.runDirectory` when the directory is gone; `PipelineError` when
    ///   the pipeline no longer validates (an input vanished).
    public func loadPipeline() throws -> Pipeline {
        guard FileManager.default.changeCurrentDirectoryPath(workingDirectory) else {
            throw ClusterError.runDirectory(path: workingDirectory, reason: "the run's working directory cannot be entered")
        }
        return try PipelineLoader.load(yaml: yaml, file: pipelineFile, overrides: try overrides.map(VariableOverride.parse))
    }
}
