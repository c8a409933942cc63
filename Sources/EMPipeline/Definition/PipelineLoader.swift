import EMConfiguration
import EMStorage
import EMStores
import EMVolume
import Foundation
import Yams

/// Reads a pipeline definition (YAML), substitutes variables, checks every stage against its
/// schema and its inputs, and returns a `Pipeline` ready to run, or every problem at once.
///
/// ```yaml
/// name: threshold-components
/// vars:
///   input: ~                      # no default: --set input=probabilities.zarr/pred
///   threshold: 0.5
/// execution:
///   block_shape: 64,256,256
/// stages:
///   mask:
///     kind: threshold
///     input: ${input}             # a store address: read implicitly
///     value: ${threshold}
///   labels:
///     kind: components
///     input: mask                 # another stage's output
///   save:
///     kind: write
///     input: labels
///     output: labels.zarr/labels
/// ```
public enum PipelineLoader {
    /// The top-level keys of a pipeline file, each with what it holds (for the pipeline reference).
    public static let topLevelSections: [(key: String, doc: String)] = [
        ("name", "The pipeline's name, used in logs and provenance files. Default: the file name without its extension."),
        ("description", "One line saying what the pipeline does."),
        ("vars", "Variables: a mapping of names to default values (`~` for none, then `--set name=value` must give one). `${name}` in any value (also in other variables) is replaced by the variable's value; `$$` writes a literal `$`. `emflow validate`, `emflow run` and `emflow submit` take `--set name=value` to override a default."),
        ("execution", "How the pipeline runs: block layout and resources (the keys below)."),
        ("stages", "Required. A mapping of stage names (letters, digits, `_` and `-`) to stages; each stage has `kind:` and the parameters of its kind. A stage names another stage as its input by that stage's name, or reads a store by its address. The order in the file does not matter: each stage runs after its inputs."),
    ]

    /// The top-level keys of a pipeline file.
    public static var topLevelKeys: [String] { topLevelSections.map(\.key) }

    /// Loads and validates the pipeline in `path`.
    ///
    /// - Throws: `PipelineError.invalid` listing every problem (file, line, stage, key).
    public static func load(file path: String, overrides: [VariableOverride] = []) throws -> Pipeline {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw PipelineError.invalid([PipelineDiagnostic(location: SourceLocation(file: path, line: 0),
                                                            message: exists ? "cannot read the pipeline file" : "pipeline file not found")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineError.invalid([PipelineDiagnostic(location: SourceLocation(file: path, line: 0), message: "the pipeline file is not UTF-8 text")])
        }
        return try load(yaml: text, file: path, overrides: overrides)
    }

    /// Loads and validates a pipeline given as YAML text; `file` names it in messages.
    public static func load(yaml text: String, file: String, overrides: [VariableOverride] = []) throws -> Pipeline {
        let root: Node
        do {
            root = try YAMLLimits.compose(yaml: text) ?? Node("", .implicit, .plain)
        } catch {
            throw PipelineError.invalid([syntaxDiagnostic(error, file: file)])
        }
        var reader = DefinitionReader(file: file)
        let pipeline = reader.read(root, overrides: overrides)
        try reader.diagnostics.throwIfAny()
        guard let pipeline else { preconditionFailure("a pipeline without diagnostics must have been read") }
        return pipeline
    }
}

/// The state of one validation: the file, the variables and every problem found.
struct DefinitionReader {
    let file: String
    var diagnostics = DiagnosticCollector()
    private var variables: VariableTable?
    /// Stages with a parameter problem: not described, so that their kind never sees a bad value.
    private var unchecked = Set<String>()

    init(file: String) {
        self.file = file
    }

    mutating func read(_ root: Node, overrides: [VariableOverride]) -> Pipeline? {
        guard root.mapping != nil else {
            diagnostics.error("a pipeline file is a mapping with the keys \(PipelineLoader.topLevelKeys.joined(separator: ", ")); found \(root.isNull ? "nothing" : root.shapeName)",
                              at: root.location(in: file))
            return nil
        }
        var sections: [String: YAMLEntry] = [:]
        for entry in mappingEntries(root, file: file, stage: nil, diagnostics: &diagnostics) {
            guard PipelineLoader.topLevelKeys.contains(entry.key) else {
                diagnostics.error("unknown key" + Suggestions.hint(for: entry.key, among: PipelineLoader.topLevelKeys), at: entry.location, key: entry.key)
                continue
            }
            sections[entry.key] = entry
        }

        let variableEntries = section("vars", in: sections)
        let table = VariableTable(entries: variableEntries, overrides: overrides, file: file, diagnostics: &diagnostics)
        variables = table

        let executionValues = parameters(ExecutionSettings.schema, entries: section("execution", in: sections), at: sections["execution"]?.location,
                                         stage: nil, keyPrefix: "execution.", stageNames: [])
        let execution = ExecutionSettings(values: executionValues.values)
        if let work = execution.workDirectory { checkWorkDirectory(work, at: executionValues.locations["work_dir"]) }

        let name = sections["name"].flatMap { scalarText($0, key: "name") }
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let summary = sections["description"].flatMap { scalarText($0, key: "description") } ?? ""

        guard let stagesEntry = sections["stages"] else {
            diagnostics.error("a pipeline needs a 'stages:' mapping", at: SourceLocation(file: file, line: 1))
            return nil
        }
        let declared = readStages(stagesEntry)
        let ordered = order(declared)
        var stages = describe(ordered, execution: execution)
        checkBlockMemory(stages, execution: execution, at: executionValues.locations["block_shape"] ?? sections["execution"]?.location)
        if !declared.isEmpty && !declared.contains(where: \.kind.schema.isSink) {
            let sinks = StageSchema.all.filter(\.isSink).map(\.kind).joined(separator: ", ")
            diagnostics.error("the pipeline stores nothing: add a stage of kind \(sinks)", at: stagesEntry.location, key: "stages")
        }
        let position = Dictionary(ordered.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        stages.sort { (position[$0.name] ?? 0) < (position[$1.name] ?? 0) }
        return Pipeline(name: name, summary: summary, file: file, variables: table.values, execution: execution, stages: stages,
                        warnings: diagnostics.warnings)
    }

    // MARK: Sections and values

    private mutating func section(_ key: String, in sections: [String: YAMLEntry]) -> [YAMLEntry] {
        guard let entry = sections[key] else { return [] }
        if entry.value.isNull { return [] }
        guard entry.value.mapping != nil else {
            diagnostics.error("expected a mapping of keys to values, found \(entry.value.shapeName)", at: entry.value.location(in: file), key: key)
            return []
        }
        return mappingEntries(entry.value, file: file, stage: nil, diagnostics: &diagnostics)
    }

    private mutating func scalarText(_ entry: YAMLEntry, key: String) -> String? {
        guard let scalar = entry.value.scalar else {
            diagnostics.error("expected text, found \(entry.value.shapeName)", at: entry.value.location(in: file), key: key)
            return nil
        }
        return variables?.substitute(scalar.string, at: entry.value.location(in: file), stage: nil, key: key, diagnostics: &diagnostics)
    }

    /// The value of `node` after variable substitution (nil after a substitution problem).
    private mutating func rawValue(_ node: Node, stage: String?, key: String) -> RawValue? {
        let location = node.location(in: file)
        func substitute(_ text: String) -> String? {
            guard let variables else { return text }
            return variables.substitute(text, at: location, stage: stage, key: key, diagnostics: &diagnostics)
        }
        if node.isNull { return .null }
        if let scalar = node.scalar { return substitute(scalar.string).map(RawValue.scalar) }
        if let sequence = node.sequence {
            var items: [String] = []
            for item in sequence {
                guard let scalar = item.scalar else { return .nested }
                guard let text = substitute(scalar.string) else { return nil }
                items.append(text)
            }
            return .list(items)
        }
        return .nested
    }

    /// Validated values of the keys in `schema` (defaults filled in) with their locations.
    private mutating func parameters(_ schema: [ParameterSchema], entries: [YAMLEntry], at location: SourceLocation?,
                                     stage: String?, keyPrefix: String, stageNames: Set<String>,
                                     ignoring ignored: Set<String> = [])
        -> (values: [String: ParameterValue], locations: [String: SourceLocation], valid: Bool) {
        var valid = true
        func error(_ message: String, at location: SourceLocation?, key: String? = nil) {
            valid = false
            diagnostics.error(message, at: location, stage: stage, key: key)
        }
        var values: [String: ParameterValue] = [:]
        var locations: [String: SourceLocation] = [:]
        let names = schema.map(\.name)
        for entry in entries where !ignored.contains(entry.key) {
            guard let parameter = schema.first(where: { $0.name == entry.key }) else {
                let what = stage == nil ? "unknown key" : "unknown parameter"
                error(what + Suggestions.hint(for: entry.key, among: names), at: entry.location, key: keyPrefix + entry.key)
                continue
            }
            locations[entry.key] = entry.value.location(in: file)
            guard let raw = rawValue(entry.value, stage: stage, key: keyPrefix + entry.key) else { valid = false; continue }
            // Null, or a variable left empty, means "not given": the default applies.
            if raw == .null || raw == .scalar("") {
                if parameter.required {
                    error("needs a value: \(parameter.type)", at: entry.value.location(in: file), key: keyPrefix + entry.key)
                } else {
                    values[entry.key] = parameter.defaultValue
                }
                continue
            }
            switch parameter.type.parse(raw, stageNames: stageNames) {
            case let .success(value): values[entry.key] = value
            case let .failure(problem): error(problem.message, at: entry.value.location(in: file), key: keyPrefix + entry.key)
            }
        }
        for parameter in schema where values[parameter.name] == nil && !entries.contains(where: { $0.key == parameter.name }) {
            if parameter.required {
                error("missing required parameter '\(parameter.name)': \(parameter.type)", at: location ?? SourceLocation(file: file, line: 1))
            } else if let value = parameter.defaultValue {
                values[parameter.name] = value
            }
        }
        return (values, locations, valid)
    }

    // MARK: Stages

    /// The most stages a pipeline may declare.
    static let maximumStages = 100_000

    /// The stages as written, plus an implicit reader for every input given as an address.
    private mutating func readStages(_ entry: YAMLEntry) -> [PipelineStage] {
        guard entry.value.mapping != nil, !(entry.value.mapping?.isEmpty ?? true) else {
            diagnostics.error("expected a mapping of stage names to stages, found \(entry.value.isNull || entry.value.mapping != nil ? "no stages" : entry.value.shapeName)",
                              at: entry.value.location(in: file), key: "stages")
            return []
        }
        let entries = mappingEntries(entry.value, file: file, stage: nil, diagnostics: &diagnostics)
        guard entries.count <= Self.maximumStages else {
            diagnostics.error("\(entries.count) stages; a pipeline holds at most \(Self.maximumStages) (split it, or run it per volume with --each)",
                              at: entry.value.location(in: file), key: "stages")
            return []
        }
        var names = Set(entries.map(\.key))
        var stages: [PipelineStage] = []
        for stageEntry in entries {
            let name = stageEntry.key
            if !Self.isValidStageName(name) {
                diagnostics.error("stage names are letters, digits, '_' and '-', starting with a letter or '_'", at: stageEntry.location, stage: name)
            }
            guard stageEntry.value.mapping != nil else {
                diagnostics.error("a stage is a mapping with 'kind:' and its parameters, found \(stageEntry.value.shapeName)",
                                  at: stageEntry.value.location(in: file), stage: name)
                continue
            }
            let keys = mappingEntries(stageEntry.value, file: file, stage: name, diagnostics: &diagnostics)
            guard let kindEntry = keys.first(where: { $0.key == "kind" }) else {
                diagnostics.error("missing 'kind:' (one of \(StageSchema.all.map(\.kind).joined(separator: ", ")))", at: stageEntry.location, stage: name)
                continue
            }
            guard case let .scalar(kindName)? = rawValue(kindEntry.value, stage: name, key: "kind") else { continue }
            guard let kind = StageKinds.named(kindName) else {
                diagnostics.error("unknown stage kind '\(kindName)'" + Suggestions.hint(for: kindName, among: StageSchema.all.map(\.kind)),
                                  at: kindEntry.value.location(in: file), stage: name, key: "kind")
                continue
            }
            var stage: PipelineStage
            if kind.readsMapping {
                stage = configured(kind, stageEntry, entries: keys, stage: name)
            } else {
                // The other stages' names (a stage is no input of itself); taken out and put
                // back rather than copied, so that many stages validate in linear time.
                names.remove(name)
                let (values, locations, valid) = parameters(kind.schema.parameters, entries: keys, at: stageEntry.location, stage: name,
                                                            keyPrefix: "", stageNames: names, ignoring: ["kind"])
                names.insert(name)
                stage = PipelineStage(name: name, configured: valid ? Self.configured(kind, values).stage : Unconfigured(stageKind: kind),
                                      values: values, locations: locations, location: stageEntry.location, inputs: [:], isImplicit: false)
            }
            if stage.configured is Unconfigured { unchecked.insert(name) }
            let values = stage.values
            for parameter in kind.schema.parameters where parameter.type == .volume {
                switch values[parameter.name] {
                case let .stage(upstream)?:
                    stage.inputs[parameter.name] = upstream
                case let .store(address)?:
                    let reader = "\(name).\(parameter.name)"
                    stage.inputs[parameter.name] = reader
                    let location = stage.location(of: parameter.name)
                    let readValues = ReadStage.implicitValues(address)
                    stages.append(PipelineStage(name: reader, configured: Self.configured(ReadStage(), readValues).stage, values: readValues,
                                                locations: [ReadStage.input.name: location], location: location, inputs: [:], isImplicit: true))
                default:
                    break
                }
            }
            for parameter in kind.schema.parameters where parameter.type.isReference {
                if case let .stage(referenced)? = values[parameter.name] { stage.references[parameter.name] = referenced }
            }
            stages.append(stage)
        }
        return stages
    }

    /// A flat stage whose values passed its schema, with its typed parameters.
    private static func configured(_ kind: any StageKind, _ values: [String: ParameterValue]) -> (stage: any ConfiguredStage, recorded: [String: ParameterValue]) {
        do {
            return try kind.configured(StageValues(values))
        } catch {
            preconditionFailure("stage kind '\(kind.name)' reads flat parameters, which cannot fail once validated: \(error)")
        }
    }

    /// A stage of a kind that reads its own configuration from the stage's mapping (variables
    /// substituted, `kind:` left out), its problems reported at their lines.
    private mutating func configured(_ kind: any StageKind, _ stageEntry: YAMLEntry, entries: [YAMLEntry], stage: String) -> PipelineStage {
        let locations = Dictionary(entries.map { ($0.key, $0.value.location(in: file)) }, uniquingKeysWith: { first, _ in first })
        var result = PipelineStage(name: stage, configured: Unconfigured(stageKind: kind), values: [:], locations: locations,
                                   location: stageEntry.location, inputs: [:], isImplicit: false)
        var pairs: [(Node, Node)] = []
        var failed = false
        for (key, value) in stageEntry.value.mapping ?? [:] where key.scalar?.string != "kind" {
            guard let value = substituted(value, stage: stage, key: key.scalar?.string ?? "?") else { failed = true; continue }
            pairs.append((key, value))
        }
        guard !failed else { return result }
        let mapping = Node.mapping(Node.Mapping(pairs, .implicit, .block, stageEntry.value.mark))
        do {
            (result.configured, result.values) = try kind.configured(StageValues([:], mapping: mapping, file: file))
            for warning in result.configured.warnings(stage: stage) { diagnostics.warning(warning) }
        } catch let problem as TrainingConfigurationReader.Problem {
            diagnostics.error(problem.message, at: problem.line.map { SourceLocation(file: file, line: $0) } ?? stageEntry.location,
                              stage: stage, key: problem.key.isEmpty ? nil : problem.key)
        } catch {
            diagnostics.error("\(error)", at: stageEntry.location, stage: stage)
        }
        return result
    }

    /// `node` with `${variable}` substituted in every scalar (marks kept), nil after a problem.
    private mutating func substituted(_ node: Node, stage: String, key: String) -> Node? {
        switch node {
        case var .scalar(scalar):
            guard let variables else { return node }
            guard let text = variables.substitute(scalar.string, at: node.location(in: file), stage: stage, key: key, diagnostics: &diagnostics) else {
                return nil
            }
            scalar.string = text
            return .scalar(scalar)
        case let .mapping(mapping):
            var pairs: [(Node, Node)] = []
            for (k, v) in mapping {
                guard let value = substituted(v, stage: stage, key: key + "." + (k.scalar?.string ?? "?")) else { return nil }
                pairs.append((k, value))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case let .sequence(sequence):
            var items: [Node] = []
            for item in sequence {
                guard let value = substituted(item, stage: stage, key: key) else { return nil }
                items.append(value)
            }
            return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark))
        }
    }

    /// The stages with every stage after its inputs; stages in a cycle are reported and left out.
    private mutating func order(_ stages: [PipelineStage]) -> [PipelineStage] {
        let byName = Dictionary(stages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var ordered: [PipelineStage] = []
        var inCycle = Set<String>()
        // Depth-first, with the path on an explicit stack: a chain of many thousand stages
        // neither recurses that deep nor copies the path at every step.
        var path: [String] = []
        func visit(_ name: String) {
            guard let stage = byName[name] else { return }
            switch marks[name] {
            case .done?: return
            case .visiting?:
                let cycle = Array(path.drop { $0 != name }) + [name]
                inCycle.formUnion(cycle)
                // Report on the input parameter that closes the cycle.
                let closing = byName[path.last!]!
                let parameter = closing.dependencies.first { $0.value == name }!.key
                diagnostics.error("the stages form a cycle: " + cycle.joined(separator: " -> "),
                                  at: closing.location(of: parameter), stage: closing.name, key: parameter)
                return
            case nil:
                marks[name] = .visiting
                path.append(name)
                var pending: [(stage: PipelineStage, upstream: [String])] = [(stage, stage.dependencies.sorted(by: { $0.key < $1.key }).map(\.value).reversed())]
                while let top = pending.last {
                    guard let next = pending[pending.count - 1].upstream.popLast() else {
                        pending.removeLast()
                        marks[top.stage.name] = .done
                        ordered.append(top.stage)
                        path.removeLast()
                        continue
                    }
                    guard let upstream = byName[next] else { continue }
                    switch marks[next] {
                    case .done?: continue
                    case .visiting?:
                        visit(next) // reports the cycle
                    case nil:
                        marks[next] = .visiting
                        path.append(next)
                        pending.append((upstream, upstream.dependencies.sorted(by: { $0.key < $1.key }).map(\.value).reversed()))
                    }
                }
            }
        }
        for stage in stages { visit(stage.name) }
        return ordered.filter { !inCycle.contains($0.name) && $0.dependencies.values.allSatisfy { !inCycle.contains($0) } }
    }

    /// Describes each stage in order (its inputs described first) and returns the described ones.
    private mutating func describe(_ stages: [PipelineStage], execution: ExecutionSettings) -> [PipelineStage] {
        var described: [String: PipelineStage] = [:]
        var result: [PipelineStage] = []
        let kinds = Dictionary(stages.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        var consumers: [String: PipelineStage] = [:]
        for stage in stages { for upstream in stage.inputs.values where consumers[upstream] == nil { consumers[upstream] = stage } }
        for var stage in stages where !unchecked.contains(stage.name) {
            var inputs: [String: VolumeDescriptor] = [:]
            for (parameter, upstream) in stage.inputs.sorted(by: { $0.key < $1.key }) {
                if let upstreamKind = kinds[upstream], upstreamKind.schema.isSink {
                    diagnostics.error("stage '\(upstream)' stores its input and has no output to use here (use the stage it writes instead)",
                                      at: stage.location(of: parameter), stage: stage.name, key: parameter)
                    break
                }
                guard let output = described[upstream]?.output else { break }
                inputs[parameter] = output
            }
            // A stage whose inputs failed is not checked further: its problems come from upstream.
            guard inputs.count == stage.inputs.count else { continue }
            let references = stage.references.compactMapValues { described[$0] }
            guard references.count == stage.references.count else { continue }
            let consumer = stage.isImplicit ? consumers[stage.name] : nil
            let reportedAs = consumer.flatMap { c in c.inputs.first { $0.value == stage.name }.map { (stage: c.name, parameter: $0.key) } }
            var check = StageCheck(stage: stage, inputs: inputs, references: references, execution: execution, diagnostics: diagnostics,
                                   reportedAs: reportedAs)
            let output = stage.configured.describe(&check)
            diagnostics = check.diagnostics
            guard let output else { continue }
            stage.output = output
            described[stage.name] = stage
            result.append(stage)
        }
        checkStores(result)
        return result
    }

    /// `work_dir` is an existing directory or one to make in an existing one: a typo such as
    /// `/scratc/me/run` must not quietly create a tree of directories somewhere else.
    private mutating func checkWorkDirectory(_ path: String, at location: SourceLocation?) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { diagnostics.error("work_dir '\(path)' is a file, not a directory", at: location, key: "execution.work_dir") }
            return
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            diagnostics.error("work_dir '\(path)': its parent directory '\(parent)' does not exist; create it first (emflow makes only the last directory)",
                              at: location, key: "execution.work_dir")
            return
        }
    }

    /// The blocks in flight must fit in memory: at least 4 bytes (one float32 volume) per
    /// voxel of every block that the workers and queues hold at once. Anything needs more than
    /// that, so a block shape that fails this bound would fail at run time ("failed to
    /// allocate") after validation passed; it is refused here instead.
    private mutating func checkBlockMemory(_ stages: [PipelineStage], execution: ExecutionSettings, at location: SourceLocation?) {
        func voxels(_ shape: Coordinate) -> Int { VolumeSizes.bytes(shape, elementSize: 1) ?? .max }
        guard let largest = stages.compactMap(\.output?.shape).max(by: { voxels($0) < voxels($1) }) else { return }
        let block = execution.edgeFit == .overhang ? execution.blockShape : Coordinate.minimum(execution.blockShape, largest)
        let inFlight = execution.workers * (execution.queueDepth + 1)
        let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard let bytes = VolumeSizes.bytes(block, elementSize: 4), bytes.multipliedReportingOverflow(by: inFlight).overflow == false,
              bytes * inFlight <= memory else {
            let need = VolumeSizes.bytes(block, elementSize: 4).map { String(format: "%.1f GiB", Double($0) * Double(inFlight) / 1_073_741_824) } ?? "more than 2^63 bytes"
            diagnostics.error("block_shape \(execution.blockShape) (edge_fit \(execution.edgeFit.rawValue)) needs at least \(need) for the \(inFlight) blocks in flight (workers x (queue_depth + 1), 4 bytes a voxel), more than this machine's \(String(format: "%.1f", Double(memory) / 1_073_741_824)) GiB: use a smaller block_shape",
                              at: location, key: "execution.block_shape")
            return
        }
    }

    /// Every output is written by one stage only, and no output is also read by the pipeline.
    /// Addresses are compared by where their bytes are (`StoreIdentity`), not by spelling: an
    /// output that is an input, or holds one (a Zarr group above it), would delete it.
    private mutating func checkStores(_ stages: [PipelineStage]) {
        var written: [(identity: StoreIdentity, stage: String)] = []
        var read: [(identity: StoreIdentity, address: StoreAddress)] = []
        for stage in stages {
            // Stored volumes that steps read after the blocks (an evaluated prediction) may be outputs.
            for parameter in stage.kind.schema.parameters where parameter.type.isInput {
                if case let .store(address)? = stage.values[parameter.name] { read.append((StoreIdentity(address), address)) }
            }
        }
        for stage in stages {
            for (parameter, address) in stage.outputStores {
                let identity = StoreIdentity(address)
                if let other = written.first(where: { $0.identity.overlaps(identity) }) {
                    diagnostics.error("'\(address)' is also written by stage '\(other.stage)'", at: stage.location(of: parameter), stage: stage.name, key: parameter)
                } else if let input = read.first(where: { $0.identity.overlaps(identity) }) {
                    let same = input.identity == identity ? "is" : "overlaps"
                    diagnostics.error("'\(address)' \(same) the input '\(input.address)' of this pipeline (both at \(identity)): writing it would destroy the input",
                                      at: stage.location(of: parameter), stage: stage.name, key: parameter)
                }
                written.append((identity, stage.name))
            }
        }
    }

    private static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
