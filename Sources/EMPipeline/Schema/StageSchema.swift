/// One parameter a stage kind (or the `execution:` section) accepts.
public struct ParameterSchema: Hashable, Sendable {
    /// The YAML key.
    public var name: String
    /// What values it takes.
    public var type: ParameterType
    /// The value when the key is absent (nil: no default).
    public var defaultValue: ParameterValue?
    /// True when the key must be given.
    public var required: Bool
    /// One or two sentences for the pipeline reference.
    public var doc: String

    /// Creates a required parameter.
    public static func required(_ name: String, _ type: ParameterType, _ doc: String) -> ParameterSchema {
        ParameterSchema(name: name, type: type, defaultValue: nil, required: true, doc: doc)
    }

    /// Creates an optional parameter with a default (nil: absent unless given).
    public static func optional(_ name: String, _ type: ParameterType, default value: ParameterValue?, _ doc: String) -> ParameterSchema {
        ParameterSchema(name: name, type: type, defaultValue: value, required: false, doc: doc)
    }
}

/// What a stage kind is and which parameters it takes: the source of validation and of the
/// generated pipeline reference.
public struct StageSchema: Hashable, Sendable {
    /// The word used after `kind:`.
    public var kind: String
    /// One sentence: what the stage does.
    public var summary: String
    /// Longer notes for the reference (may be empty).
    public var details: String
    /// The parameters, inputs first.
    public var parameters: [ParameterSchema]
    /// True when the stage stores a result (a run needs at least one such stage).
    public var isSink: Bool

    /// Creates a schema.
    public init(kind: String, summary: String, details: String = "", parameters: [ParameterSchema], isSink: Bool = false) {
        self.kind = kind
        self.summary = summary
        self.details = details
        self.parameters = parameters
        self.isSink = isSink
    }

    /// The parameter named `name`, if the stage has one.
    public func parameter(_ name: String) -> ParameterSchema? {
        parameters.first { $0.name == name }
    }

    /// The parameters that name input volumes.
    public var inputParameters: [ParameterSchema] { parameters.filter(\.type.isInput) }
}
