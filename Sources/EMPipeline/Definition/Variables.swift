import EMStorage
import Foundation

/// A `--set name=value` given on the command line.
public struct VariableOverride: Hashable, Sendable {
    /// The variable.
    public var name: String
    /// Its value (text, typed where it is used).
    public var value: String

    /// Creates an override.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `name=value`.
    ///
    /// - Throws: `PipelineError.invalid` when there is no `=` or no name.
    public static func parse(_ text: String) throws -> VariableOverride {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw PipelineError.invalid([PipelineDiagnostic(location: SourceLocation(file: "--set \(text)", line: 0),
                                                            message: "expected --set name=value")])
        }
        return VariableOverride(name: String(text[..<equals]).trimmingCharacters(in: .whitespaces),
                                value: String(text[text.index(after: equals)...]))
    }
}

/// The resolved value of one pipeline variable.
public struct ResolvedVariable: Hashable, Sendable {
    /// The variable's name.
    public var name: String
    /// Its value after overrides and substitution.
    public var value: String
    /// True when the value came from `--set`.
    public var overridden: Bool
}

/// The variables of a pipeline (`vars:` defaults, `--set` overrides) and `${name}` substitution.
struct VariableTable {
    private struct Definition {
        var text: String?
        var location: SourceLocation
        var overridden: Bool
    }

    /// Values of variables expanded while expanding others, so that each is expanded once.
    private final class Expanded {
        var values: [String: String] = [:]
    }

    /// The longest value a variable or parameter may expand to: `${a}${a}` nested thirty
    /// times would otherwise ask for gigabytes from a few lines.
    static let maximumExpandedLength = 1 << 20

    private var definitions: [String: Definition] = [:]
    private var order: [String] = []
    private var resolved: [String: String] = [:]
    private let expanded = Expanded()
    private let file: String

    /// Reads the `vars:` entries and applies the overrides, reporting unknown overrides,
    /// malformed names and variables left without a value.
    init(entries: [YAMLEntry], overrides: [VariableOverride], file: String, diagnostics: inout DiagnosticCollector) {
        self.file = file
        for entry in entries {
            guard Self.isValidName(entry.key) else {
                diagnostics.error("variable names are letters, digits and '_', not starting with a digit", at: entry.location, key: "vars.\(entry.key)")
                continue
            }
            let text: String?
            if entry.value.isNull {
                text = nil
            } else if let scalar = entry.value.scalar {
                text = scalar.string
            } else {
                diagnostics.error("a variable holds a single value, found \(entry.value.shapeName)", at: entry.value.location(in: file), key: "vars.\(entry.key)")
                continue
            }
            definitions[entry.key] = Definition(text: text, location: entry.location, overridden: false)
            order.append(entry.key)
        }
        var given = Set<String>()
        for override in overrides {
            let location = SourceLocation(file: "--set \(override.name)=\(override.value)", line: 0)
            guard definitions[override.name] != nil else {
                diagnostics.error("unknown variable '\(override.name)'" + Suggestions.hint(for: override.name, among: order), at: location)
                continue
            }
            if !given.insert(override.name).inserted {
                diagnostics.error("variable '\(override.name)' is set twice", at: location)
            }
            definitions[override.name]?.text = override.value
            definitions[override.name]?.overridden = true
        }
        for name in order {
            guard let definition = definitions[name] else { continue }
            guard let text = definition.text else {
                diagnostics.error("variable '\(name)' has no default: give it a value with --set \(name)=VALUE", at: definition.location, key: "vars.\(name)")
                continue
            }
            var visiting: [String] = [name]
            if let value = expand(text, at: definition.location, stage: nil, key: "vars.\(name)", visiting: &visiting, diagnostics: &diagnostics) {
                resolved[name] = value
            }
        }
    }

    /// The variables in definition order with their final values (unresolvable ones left out).
    var values: [ResolvedVariable] {
        order.compactMap { name in
            resolved[name].map { ResolvedVariable(name: name, value: $0, overridden: definitions[name]?.overridden ?? false) }
        }
    }

    /// Replaces every `${name}` in `text` (`$$` writes a literal `$`). Returns nil after
    /// recording a problem (an undefined variable or a malformed reference).
    func substitute(_ text: String, at location: SourceLocation, stage: String?, key: String?, diagnostics: inout DiagnosticCollector) -> String? {
        var visiting: [String] = []
        return expand(text, at: location, stage: stage, key: key, visiting: &visiting, diagnostics: &diagnostics)
    }

    private func expand(_ text: String, at location: SourceLocation, stage: String?, key: String?,
                        visiting: inout [String], diagnostics: inout DiagnosticCollector) -> String? {
        guard text.contains("$") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
                continue
            }
            guard text[next] == "{" else {
                result.append(character)
                index = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                diagnostics.error("unterminated '${' in '\(text)'", at: location, stage: stage, key: key)
                return nil
            }
            let name = String(text[text.index(after: next)..<close])
            guard let definition = definitions[name] else {
                diagnostics.error("undefined variable '\(name)'" + Suggestions.hint(for: name, among: order)
                                  + (order.isEmpty ? " (declare it under vars:)" : ""), at: location, stage: stage, key: key)
                return nil
            }
            if let value = resolved[name] ?? expanded.values[name] {
                result += value
            } else {
                // Reported where the variable is defined.
                guard let raw = definition.text else { return nil }
                if visiting.contains(name) {
                    diagnostics.error("variables refer to each other in a cycle: " + (visiting + [name]).joined(separator: " -> "),
                                      at: definition.location, key: "vars.\(name)")
                    return nil
                }
                visiting.append(name)
                defer { visiting.removeLast() }
                guard let value = expand(raw, at: definition.location, stage: nil, key: "vars.\(name)", visiting: &visiting, diagnostics: &diagnostics) else {
                    return nil
                }
                expanded.values[name] = value
                result += value
            }
            guard result.utf8.count <= Self.maximumExpandedLength else {
                diagnostics.error("'\(text.prefix(60))' expands to more than \(Self.maximumExpandedLength >> 20) MiB: variables that repeat other variables grow without bound",
                                  at: location, stage: stage, key: key)
                return nil
            }
            index = text.index(after: close)
        }
        return result
    }

    private static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.properties.isAlphabetic && first.isASCII) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
