/// What went wrong evaluating a prediction. Every case names the input involved and what was
/// expected, so the message alone tells a user what to fix.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// Two inputs that must cover the same voxels do not.
    case shapeMismatch(what: String, expected: String, found: String)
    /// An input whose element type cannot play its role (e.g. float truth labels).
    case unsupportedDataType(what: String, dataType: String, supported: String)
    /// A score that is NaN or infinite.
    case nonFiniteScore(what: String, location: String)
    /// An option with a value that cannot be used.
    case invalidOption(name: String, expected: String)
    /// A report file that cannot be read or written.
    case report(path: String, reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(what, expected, found):
            return "\(what): shape \(found) does not match \(expected)"
        case let .unsupportedDataType(what, dataType, supported):
            return "\(what): data type \(dataType) is not supported here (expected \(supported))"
        case let .nonFiniteScore(what, location):
            return "\(what): score at \(location) is NaN or infinite; scores must be finite"
        case let .invalidOption(name, expected):
            return "option '\(name)': expected \(expected)"
        case let .report(path, reason):
            return "\(path): \(reason)"
        }
    }
}
