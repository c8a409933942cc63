import EMStorage
import EMVolume
import Foundation

/// The type of a stage parameter: how its YAML value is read and what a wrong value is told.
public enum ParameterType: Hashable, Sendable, CustomStringConvertible {
    /// A whole number within optional bounds.
    case integer(minimum: Int?, maximum: Int?)
    /// A real number within optional bounds.
    case number(minimum: Double?, maximum: Double?)
    /// `true` or `false` (also `yes`/`no`, `on`/`off`).
    case boolean
    /// Free text.
    case text
    /// One of a fixed set of words.
    case choice([String])
    /// Three integers z,y,x (a YAML list `[z, y, x]`, text `z,y,x`, or one number for all
    /// three axes), each at least `minimum`.
    case coordinate(minimum: Int)
    /// A box `z0:z1,y0:y1,x0:x1` in voxels, half-open.
    case region
    /// An element type among `allowed`.
    case dataType(allowed: [DataType])
    /// A volume: the name of another stage (its output) or the address of an existing store
    /// (read implicitly).
    case volume
    /// The address of an existing store.
    case existingStore
    /// The address of a store to create.
    case outputStore
    /// A volume written by this run or already stored: the name of a `write` stage of the
    /// pipeline (read once that stage has finished) or the address of an existing store.
    case storedVolume
    /// A U-Net checkpoint: the name of a `train` stage of the pipeline (its checkpoint, once
    /// trained) or a checkpoint directory.
    case checkpoint

    /// Any integer.
    public static let anyInteger = ParameterType.integer(minimum: nil, maximum: nil)
    /// Any real number.
    public static let anyNumber = ParameterType.number(minimum: nil, maximum: nil)
    /// A shape: positive z,y,x.
    public static let shape = ParameterType.coordinate(minimum: 1)
    /// Every data type.
    public static let anyDataType = ParameterType.dataType(allowed: DataType.allCases)

    /// What a value of this type looks like, as the documentation and error messages say it.
    public var description: String {
        switch self {
        case let .integer(minimum, maximum): return "an integer" + Self.bounds(minimum, maximum)
        case let .number(minimum, maximum): return "a number" + Self.bounds(minimum, maximum)
        case .boolean: return "true or false"
        case .text: return "text"
        case let .choice(words): return "one of " + words.joined(separator: ", ")
        case let .coordinate(minimum):
            return "z,y,x integers" + (minimum == 0 ? " (at least 0)" : minimum == 1 ? " (positive)" : " (at least \(minimum))")
        case .region: return "a region z0:z1,y0:y1,x0:x1 (voxels, half-open)"
        case let .dataType(allowed): return "a data type (" + allowed.map(\.rawValue).joined(separator: ", ") + ")"
        case .volume: return "a stage name or a store address"
        case .existingStore: return "the address of an existing volume (file.h5:dataset, dir.zarr/array, stack.tif)"
        case .outputStore: return "the address of a volume to write (file.h5:dataset, dir.zarr/array, stack.tif)"
        case .storedVolume: return "the name of a write stage or the address of an existing volume"
        case .checkpoint: return "the name of a train stage or a checkpoint directory (config.json + model.safetensors)"
        }
    }

    private static func bounds<T: Comparable>(_ minimum: T?, _ maximum: T?) -> String {
        switch (minimum, maximum) {
        case let (lo?, hi?): return " from \(lo) to \(hi)"
        case let (lo?, nil): return " of at least \(lo)"
        case let (nil, hi?): return " of at most \(hi)"
        case (nil, nil): return ""
        }
    }

    /// True for parameters that connect a stage to its inputs.
    public var isInput: Bool { self == .volume || self == .existingStore }

    /// True for parameters that may name another stage whose result is used once that stage
    /// has finished (not streamed block by block).
    public var isReference: Bool { self == .storedVolume || self == .checkpoint }
}

/// A parameter value as written in YAML, after `${variable}` substitution.
public enum RawValue: Hashable, Sendable, CustomStringConvertible {
    /// A scalar (YAML keeps every scalar as text until its type is known).
    case scalar(String)
    /// A list of scalars.
    case list([String])
    /// YAML null (`~`, `null` or nothing).
    case null
    /// A nested mapping or a list of lists, which no parameter accepts.
    case nested

    public var description: String {
        switch self {
        case let .scalar(text): return text
        case let .list(items): return "[" + items.joined(separator: ", ") + "]"
        case .null: return "null"
        case .nested: return "a nested mapping or list"
        }
    }
}

extension ParameterType {
    /// Reads `raw` as a value of this type, or says what was expected.
    ///
    /// - Parameter stageNames: the pipeline's stages, which a `.volume` value may name.
    /// - Returns: the value, or the reason it is not one (`expected ..., got '...'`).
    public func parse(_ raw: RawValue, stageNames: Set<String> = []) -> Result<ParameterValue, ParameterParseError> {
        let got = "got '\(raw)'"
        func fail(_ extra: String = "") -> Result<ParameterValue, ParameterParseError> {
            .failure(ParameterParseError(message: "expected \(description), \(got)\(extra)"))
        }
        if case .coordinate(let minimum) = self {
            let numbers: [Int]?
            switch raw {
            case let .scalar(text):
                numbers = (try? Coordinate.parse(text))?.components
            case let .list(items):
                let parsed = items.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                numbers = parsed.count == items.count && items.count == 3 ? parsed : nil
            default:
                numbers = nil
            }
            guard let numbers, let value = Coordinate(numbers), numbers.allSatisfy({ $0 >= minimum }) else { return fail() }
            return .success(.coordinate(value))
        }
        guard case let .scalar(untrimmed) = raw else { return fail() }
        let text = untrimmed.trimmingCharacters(in: .whitespaces)
        switch self {
        case let .integer(minimum, maximum):
            guard let value = Int(text), value >= (minimum ?? .min), value <= (maximum ?? .max) else { return fail() }
            return .success(.integer(value))
        case let .number(minimum, maximum):
            guard let value = Double(text), value.isFinite,
                  value >= (minimum ?? -.infinity), value <= (maximum ?? .infinity) else { return fail() }
            return .success(.number(value))
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "on": return .success(.boolean(true))
            case "false", "no", "off": return .success(.boolean(false))
            default: return fail()
            }
        case .text:
            return .success(.text(untrimmed))
        case let .choice(words):
            guard words.contains(text) else { return fail(Suggestions.didYouMean(text, among: words)) }
            return .success(.text(text))
        case .region:
            guard let box = try? Box.parse(text) else { return fail() }
            return .success(.region(box))
        case let .dataType(allowed):
            guard let type = DataType(name: text), allowed.contains(type) else {
                return fail(Suggestions.didYouMean(text, among: allowed.map(\.rawValue)))
            }
            return .success(.dataType(type))
        case .volume:
            if stageNames.contains(text) { return .success(.stage(text)) }
            if let address = try? StoreAddress.parse(text) { return .success(.store(address)) }
            return .failure(ParameterParseError(message: "'\(text)' is neither a stage of this pipeline nor a store address\(stageSuggestion(text, stageNames))"))
        case .existingStore, .outputStore:
            do { return .success(.store(try StoreAddress.parse(text))) }
            catch { return .failure(ParameterParseError(message: "\(error)")) }
        case .storedVolume:
            if stageNames.contains(text) { return .success(.stage(text)) }
            do { return .success(.store(try StoreAddress.parse(text))) }
            catch {
                return .failure(ParameterParseError(message: "'\(text)' is neither a stage of this pipeline nor a store address\(stageSuggestion(text, stageNames)): \(error)"))
            }
        case .checkpoint:
            if stageNames.contains(text) { return .success(.stage(text)) }
            // A misspelt train stage, not a directory that happens to be named like one.
            let hint = stageSuggestion(text, stageNames)
            if !hint.isEmpty && !FileManager.default.fileExists(atPath: text) {
                return .failure(ParameterParseError(message: "'\(text)' is neither a stage of this pipeline nor a checkpoint directory\(hint)"))
            }
            return .success(.text(text))
        case .coordinate:
            preconditionFailure("handled above")
        }
    }

    private func stageSuggestion(_ text: String, _ stageNames: Set<String>) -> String {
        Suggestions.closest(to: text, among: stageNames.sorted()).map { " (did you mean stage '\($0)'?)" } ?? ""
    }
}

/// Why a YAML value is not a valid parameter value.
public struct ParameterParseError: Error, Hashable, Sendable {
    /// `expected ..., got '...'`.
    public var message: String
}
