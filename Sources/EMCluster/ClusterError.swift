/// Why a cluster run could not be submitted, run, inspected or cancelled.
public enum ClusterError: Error, CustomStringConvertible {
    /// The pipeline cannot run sharded, or the run directory is in a state that forbids the action.
    case refused(String)
    /// A file of the run directory is missing or unreadable.
    case runDirectory(path: String, reason: String)
    /// A scheduler command failed.
    case scheduler(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case let .refused(message):
            return message
        case let .runDirectory(path, reason):
            return "\(path): \(reason)"
        case let .scheduler(command, status, output):
            let detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "`\(command)` exited with status \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }
}
