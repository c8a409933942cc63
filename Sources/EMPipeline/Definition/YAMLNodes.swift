import EMConfiguration
import Yams

/// One `key: value` pair of a YAML mapping, with where the key is written.
struct YAMLEntry {
    /// The key text.
    var key: String
    /// Where the key is.
    var location: SourceLocation
    /// The value node (its own mark says where the value is).
    var value: Node
}

extension Node {
    /// Where this node starts in `file` (line 1 when Yams gave no mark).
    func location(in file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// True for a YAML null: `~`, `null` or an empty value.
    var isNull: Bool {
        guard let scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A short name of the node's shape for messages.
    var shapeName: String {
        switch self {
        case .scalar: return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// The entries of a mapping node; reports non-text keys and keys given twice.
func mappingEntries(_ node: Node, file: String, stage: String?, diagnostics: inout DiagnosticCollector) -> [YAMLEntry] {
    guard let mapping = node.mapping else { return [] }
    var seen: [String: SourceLocation] = [:]
    var result: [YAMLEntry] = []
    for (key, value) in mapping {
        let location = key.location(in: file)
        guard let text = key.scalar?.string else {
            diagnostics.error("keys must be plain words, found \(key.shapeName)", at: location, stage: stage)
            continue
        }
        if let first = seen[text] {
            diagnostics.error("given twice (first on line \(first.line))", at: location, stage: stage, key: text)
            continue
        }
        seen[text] = location
        result.append(YAMLEntry(key: text, location: location, value: value))
    }
    return result
}

/// Converts a YAML syntax error from Yams into a diagnostic at its line.
func syntaxDiagnostic(_ error: Error, file: String) -> PipelineDiagnostic {
    func located(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> PipelineDiagnostic {
        let message = "malformed YAML: " + problem + (context.map { " (\($0.text) at line \($0.mark.line))" } ?? "")
        return PipelineDiagnostic(location: SourceLocation(file: file, line: mark.line, column: mark.column), message: message)
    }
    switch error {
    case let YamlError.scanner(context, problem, mark, _): return located(context, problem, mark)
    case let YamlError.parser(context, problem, mark, _): return located(context, problem, mark)
    case let YamlError.composer(context, problem, mark, _): return located(context, problem, mark)
    case let limit as YAMLLimits.Exceeded:
        return PipelineDiagnostic(location: SourceLocation(file: file, line: limit.line), message: "YAML refused: \(limit.message)")
    case let YamlError.reader(problem, _, _, _):
        return PipelineDiagnostic(location: SourceLocation(file: file, line: 0), message: "unreadable YAML: \(problem)")
    default:
        return PipelineDiagnostic(location: SourceLocation(file: file, line: 0), message: "malformed YAML: \(error)")
    }
}
