import EMStorage
import EMVolume
import Yams

/// A Swift type a validated parameter value reads as (and is written back from, for defaults).
public protocol ParameterRepresentable: Sendable {
    /// The value `value` holds, nil when it is of another type (never for a validated value).
    init?(parameterValue value: ParameterValue)
    /// The value as a validated parameter value (a default in the schema).
    var parameterValue: ParameterValue { get }
}

/// A parameter whose values are a fixed set of words (`ParameterType.choice`).
public protocol ParameterChoice: ParameterRepresentable, CaseIterable {
    /// The word a pipeline file writes for this case.
    var word: String { get }
}

extension ParameterChoice {
    public init?(parameterValue value: ParameterValue) {
        guard case let .text(word) = value, let match = Self.allCases.first(where: { $0.word == word }) else { return nil }
        self = match
    }

    public var parameterValue: ParameterValue { .text(word) }
}

extension ParameterChoice where Self: RawRepresentable, RawValue == String {
    public var word: String { rawValue }
}

/// One parameter of a stage kind, declared once: its schema (name, type, default,
/// documentation) and how its validated value reads as `Value`. A kind lists its parameters
/// in its `StageSchema` and decodes them into its `Parameters` with `StageValues[parameter]`;
/// nothing restates a name or a default.
public struct Parameter<Value: Sendable>: Sendable {
    /// The name, type, default and documentation validation and the reference use.
    public let schema: ParameterSchema
    private let read: @Sendable (ParameterValue?) -> Value?

    /// The YAML key.
    public var name: String { schema.name }

    fileprivate init(schema: ParameterSchema, read: @escaping @Sendable (ParameterValue?) -> Value?) {
        self.schema = schema
        self.read = read
    }

    /// The value in validated `values` (the default when absent).
    func value(in values: [String: ParameterValue]) -> Value {
        guard let value = read(values[name] ?? schema.defaultValue) else {
            preconditionFailure("parameter '\(name)' was not validated against its schema (\(schema.type))")
        }
        return value
    }
}

extension Parameter where Value: ParameterRepresentable {
    /// A parameter that must be given.
    public static func required(_ name: String, _ type: ParameterType, _ doc: String) -> Parameter {
        Parameter(schema: .required(name, type, doc)) { $0.flatMap(Value.init(parameterValue:)) }
    }

    /// A parameter that takes `value` when absent.
    public static func optional(_ name: String, _ type: ParameterType, default value: Value, _ doc: String) -> Parameter {
        Parameter(schema: .optional(name, type, default: value.parameterValue, doc)) { $0.flatMap(Value.init(parameterValue:)) }
    }
}

extension Parameter where Value: ParameterChoice {
    /// A parameter taking one of `Value`'s words, `value` when absent.
    public static func choice(_ name: String, default value: Value, _ doc: String) -> Parameter {
        .optional(name, .choice(Value.allCases.map(\.word)), default: value, doc)
    }
}

extension Parameter {
    /// A parameter that may be absent (nil), with no default.
    public static func optional<Wrapped: ParameterRepresentable>(_ name: String, _ type: ParameterType, _ doc: String) -> Parameter
    where Value == Wrapped? {
        Parameter(schema: .optional(name, type, default: nil, doc)) { value in .some(value.flatMap(Wrapped.init(parameterValue:))) }
    }
}

/// The validated values of one stage, read through its kind's `Parameter` declarations.
public struct StageValues {
    /// Values by key, defaults included.
    let values: [String: ParameterValue]
    /// For a kind that `readsMapping`: the stage's YAML mapping, variables substituted and
    /// `kind:` left out (its marks give the lines of `file`).
    public let mapping: Node?
    /// The pipeline file.
    public let file: String

    init(_ values: [String: ParameterValue], mapping: Node? = nil, file: String = "") {
        self.values = values
        self.mapping = mapping
        self.file = file
    }

    /// The value of `parameter` (its default when absent).
    public subscript<Value>(_ parameter: Parameter<Value>) -> Value { parameter.value(in: values) }
}

/// A volume parameter's value: another stage of the pipeline or a store.
public enum VolumeReference: ParameterRepresentable, Hashable {
    /// The output (or, for a write stage, the stored result) of the stage with this name.
    case stage(String)
    /// A store.
    case store(StoreAddress)

    public init?(parameterValue value: ParameterValue) {
        switch value {
        case let .stage(name): self = .stage(name)
        case let .store(address): self = .store(address)
        default: return nil
        }
    }

    public var parameterValue: ParameterValue {
        switch self {
        case let .stage(name): return .stage(name)
        case let .store(address): return .store(address)
        }
    }

    /// The store, when the value names one.
    public var store: StoreAddress? { if case let .store(address) = self { return address } else { return nil } }
}

/// A checkpoint parameter's value: a train stage of the pipeline or a checkpoint directory.
public enum CheckpointReference: ParameterRepresentable, Hashable {
    /// The train stage with this name (its checkpoint once trained).
    case stage(String)
    /// A checkpoint directory (config.json + model.safetensors).
    case directory(String)

    public init?(parameterValue value: ParameterValue) {
        switch value {
        case let .stage(name): self = .stage(name)
        case let .text(path): self = .directory(path)
        default: return nil
        }
    }

    public var parameterValue: ParameterValue {
        switch self {
        case let .stage(name): return .stage(name)
        case let .directory(path): return .text(path)
        }
    }
}

extension Int: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .integer(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .integer(self) }
}

extension Double: ParameterRepresentable {
    /// Integers are accepted where numbers are.
    public init?(parameterValue value: ParameterValue) {
        switch value {
        case let .number(v): self = v
        case let .integer(v): self = Double(v)
        default: return nil
        }
    }

    public var parameterValue: ParameterValue { .number(self) }
}

extension Bool: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .boolean(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .boolean(self) }
}

extension String: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .text(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .text(self) }
}

extension Coordinate: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .coordinate(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .coordinate(self) }
}

extension Box: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .region(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .region(self) }
}

extension DataType: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .dataType(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .dataType(self) }
}

extension StoreAddress: ParameterRepresentable {
    public init?(parameterValue value: ParameterValue) { if case let .store(v) = value { self = v } else { return nil } }
    public var parameterValue: ParameterValue { .store(self) }
}
