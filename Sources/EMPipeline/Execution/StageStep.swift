/// A stage that runs once, as a whole, before or after the blockwise part of a run (train,
/// evaluate). When `reusesFinishedResult` is true, the runner skips it if the marker in its
/// output directory shows that the same configuration finished, and tells it to resume when
/// the same configuration was interrupted.
public protocol StageStep: StageImplementation {
    /// True when a finished result of the same configuration may be kept (training); false
    /// when the step reads volumes that may have changed since (evaluation), so it always runs.
    var reusesFinishedResult: Bool { get }

    /// The directory the step writes (created by the step); the runner keeps its marker there.
    var outputDirectory: String { get }

    /// Runs the step. `resume` is true when an earlier run of the same configuration started
    /// the step and did not finish it.
    func run(resume: Bool) throws
}
