/// A place in a pipeline definition: a file, a line and a column (both from 1).
///
/// Values given on the command line (`--set`) have no line: `line` is 0 and `file` names
/// the option.
public struct SourceLocation: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The pipeline file, or the command-line option a value came from.
    public var file: String
    /// Line number from 1; 0 when the value did not come from a file.
    public var line: Int
    /// Column number from 1; 0 when unknown.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line`, or just `file` when there is no line.
    public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// One problem found in a pipeline definition, with where it is and what was expected.
public struct PipelineDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// Where the problem is (nil for problems with the pipeline as a whole).
    public var location: SourceLocation?
    /// The stage the problem belongs to, if any.
    public var stage: String?
    /// The parameter (inside a stage) or top-level key (outside) the problem is about.
    public var key: String?
    /// What is wrong and what was expected.
    public var message: String

    /// Creates a diagnostic.
    public init(location: SourceLocation?, stage: String? = nil, key: String? = nil, message: String) {
        self.location = location
        self.stage = stage
        self.key = key
        self.message = message
    }

    /// `file:line: stage 'name': parameter 'key': message`.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if let stage { parts.append("stage '\(stage)'") }
        if let key { parts.append(stage == nil ? "'\(key)'" : "parameter '\(key)'") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// Errors of the pipeline layer.
public enum PipelineError: Error, CustomStringConvertible {
    /// The definition has problems; all of them are listed, in file order.
    case invalid([PipelineDiagnostic])
    /// A run could not start or continue (output unusable, bookkeeping unreadable, ...).
    case execution(String)

    public var description: String {
        switch self {
        case let .invalid(diagnostics):
            let count = diagnostics.count
            return diagnostics.map(\.description).joined(separator: "\n")
                + "\n\(count) problem\(count == 1 ? "" : "s") found; nothing was run"
        case let .execution(message):
            return message
        }
    }
}

/// Collects diagnostics during validation, so that every problem is reported at once.
public struct DiagnosticCollector: Sendable {
    /// The problems found so far, in the order they were found.
    public private(set) var diagnostics: [PipelineDiagnostic] = []
    /// Notes that do not stop the pipeline (deprecated spellings), in the order they were found.
    public private(set) var warnings: [PipelineDiagnostic] = []

    /// Creates an empty collector.
    public init() {}

    /// True when no problem was found.
    public var isEmpty: Bool { diagnostics.isEmpty }

    /// Records a problem.
    public mutating func error(_ message: String, at location: SourceLocation?, stage: String? = nil, key: String? = nil) {
        let diagnostic = PipelineDiagnostic(location: location, stage: stage, key: key, message: message)
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    /// Records a note that does not stop the pipeline.
    public mutating func warning(_ diagnostic: PipelineDiagnostic) {
        if !warnings.contains(diagnostic) { warnings.append(diagnostic) }
    }

    /// The problems sorted by file position (command-line problems first).
    public var sorted: [PipelineDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            let ka = (la?.line ?? 0, la?.column ?? 0, a.offset), kb = (lb?.line ?? 0, lb?.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }

    /// Throws `PipelineError.invalid` with every problem when any was found.
    public func throwIfAny() throws {
        if !diagnostics.isEmpty { throw PipelineError.invalid(sorted) }
    }
}
