import EMNN
import EMStorage
import Foundation
import Yams

/// Reads a training configuration from YAML (a file for `emflow train`, or the mapping of a
/// pipeline's train stage) with errors that name the file, line and key: unknown keys (with
/// the closest known one), wrong types, missing keys and invalid values.
///
/// Keys are snake_case, as in pipeline files (`patch_shape`, `network: {base_width: 8}`); the
/// older camelCase keys (`patchShape`) are still read, each reported in `Reading.deprecations`.
public enum TrainingConfigurationReader {
    /// A configuration read, and the deprecated keys it was written with.
    public struct Reading: Sendable {
        /// The validated configuration.
        public let configuration: TrainingConfiguration
        /// One note per camelCase key (file, line, key and its snake_case spelling).
        public let deprecations: [Problem]
    }

    /// An error in a configuration.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        /// The file.
        public let file: String
        /// The line (1-based), when known.
        public let line: Int?
        /// The key path, e.g. `network.depth` (empty when the problem is the whole configuration).
        public let key: String
        /// What is wrong and what would work.
        public let message: String

        /// `file:line: message`.
        public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
    }

    /// Parses, checks keys, decodes and validates the configuration file at `path`.
    public static func load(_ path: String) throws -> Reading {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(file: path, line: nil, key: "", message: "cannot read the configuration: \(error.localizedDescription)")
        }
        let root: Node
        do {
            guard let node = try YAMLLimits.compose(yaml: text) else { throw Problem(file: path, line: nil, key: "", message: "the configuration is empty") }
            root = node
        } catch let problem as Problem {
            throw problem
        } catch let limit as YAMLLimits.Exceeded {
            throw Problem(file: path, line: limit.line, key: "", message: "YAML refused: \(limit.message)")
        } catch {
            throw Problem(file: path, line: nil, key: "", message: "malformed YAML: \(error)")
        }
        return try read(root, file: path)
    }

    /// True when the YAML file at `path` is a training configuration rather than a pipeline:
    /// a mapping with a `network` key and no `stages` key.
    public static func isTrainingConfiguration(file path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let mapping = (try? YAMLLimits.compose(yaml: text))??.mapping else { return false }
        return mapping[Node("network")] != nil && mapping[Node("stages")] == nil
    }

    /// Checks keys, decodes and validates the configuration mapping `root` (its marks give the
    /// lines of `file`); validation problems of the whole configuration are reported at
    /// `root`'s line.
    public static func read(_ root: Node, file: String) throws -> Reading {
        guard root.mapping != nil else {
            throw Problem(file: file, line: root.mark?.line, key: "", message: "a training configuration is a mapping of keys to values")
        }
        try checkKeys(root, section: "", file: file)
        var deprecations: [Problem] = []
        let decoderRoot = decoderKeys(root, path: "", file: file, deprecations: &deprecations)
        let configuration: TrainingConfiguration
        do {
            configuration = try YAMLDecoder().decode(TrainingConfiguration.self, from: try Yams.serialize(node: decoderRoot))
        } catch let error as DecodingError {
            throw describe(error, root: decoderRoot, file: file)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(file: file, line: root.mark?.line, key: "", message: "\(error)")
        }
        do {
            try configuration.validate()
        } catch {
            throw Problem(file: file, line: root.mark?.line, key: "", message: "\(error)")
        }
        return Reading(configuration: configuration, deprecations: deprecations)
    }

    /// Refuses keys a section does not know (in either spelling), with their line and the
    /// closest known key in snake_case.
    static func checkKeys(_ node: Node, section: String, file: String) throws {
        guard let mapping = node.mapping, let known = TrainingConfiguration.sectionKeys[section] else { return }
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "?"
            let decoderName = KeyStyle.camel(name)
            guard known.contains(decoderName) else {
                let place = section.isEmpty ? "at the top level" : "in '\(section)'"
                throw Problem(file: file, line: key.mark?.line, key: section.isEmpty ? name : section + "." + name,
                              message: "unknown key '\(name)' \(place)\(Suggestions.hint(for: name, among: known.map(KeyStyle.snake).sorted()))")
            }
            if section.isEmpty { try checkKeys(value, section: KeyStyle.snake(decoderName), file: file) }
        }
    }

    /// `node` with every key spelt as the decoders spell it (camelCase), marks kept; each key
    /// written in camelCase adds a deprecation. The entries of `layer_widths` are layer names,
    /// not keys, and are left as they are.
    static func decoderKeys(_ node: Node, path: String, file: String, deprecations: inout [Problem]) -> Node {
        switch node {
        case let .mapping(mapping):
            var pairs: [(Node, Node)] = []
            for (key, value) in mapping {
                guard var scalar = key.scalar else { pairs.append((key, value)); continue }
                let written = scalar.string, snake = KeyStyle.snake(written)
                let keyPath = path.isEmpty ? snake : path + "." + snake
                if KeyStyle.isCamelCase(written) {
                    deprecations.append(Problem(file: file, line: key.mark?.line, key: keyPath,
                                                message: "'\(written)' is the older camelCase spelling: write '\(snake)' (camelCase keys are still read, but deprecated)"))
                }
                scalar.string = KeyStyle.camel(snake)
                let inner = scalar.string == "layerWidths" ? value : decoderKeys(value, path: keyPath, file: file, deprecations: &deprecations)
                pairs.append((.scalar(scalar), inner))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case let .sequence(sequence):
            return .sequence(Node.Sequence(sequence.map { decoderKeys($0, path: path, file: file, deprecations: &deprecations) },
                                           sequence.tag, sequence.style, sequence.mark))
        case .scalar:
            return node
        }
    }

    /// A decoding error as a problem at the line of the offending key.
    static func describe(_ error: DecodingError, root: Node, file: String) -> Problem {
        func located(_ path: [CodingKey], _ message: String) -> Problem {
            var node = root, line = root.mark?.line
            for key in path {
                if let index = key.intValue, let sequence = node.sequence, index < sequence.count {
                    node = sequence[index]
                } else if let value = node.mapping?[Node(key.stringValue)] {
                    node = value
                } else { break }
                line = node.mark?.line ?? line
            }
            let name = path.map { $0.intValue.map { "[\($0)]" } ?? KeyStyle.snake($0.stringValue) }.joined(separator: ".")
            return Problem(file: file, line: line, key: name, message: name.isEmpty ? message : "'\(name)': \(message)")
        }
        switch error {
        case let .keyNotFound(key, context):
            return located(context.codingPath, "missing key '\(KeyStyle.snake(key.stringValue))'")
        case let .typeMismatch(type, context):
            return located(context.codingPath, "expected \(type): \(context.debugDescription)")
        case let .valueNotFound(type, context):
            return located(context.codingPath, "expected a value of type \(type)")
        case let .dataCorrupted(context):
            return located(context.codingPath, context.debugDescription)
        @unknown default:
            return Problem(file: file, line: nil, key: "", message: "\(error)")
        }
    }
}
