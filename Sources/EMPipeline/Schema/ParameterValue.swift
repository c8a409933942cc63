import EMStorage
import EMVolume
import Foundation

/// A validated parameter value.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    /// A whole number.
    case integer(Int)
    /// A real number.
    case number(Double)
    /// True or false.
    case boolean(Bool)
    /// Free text or a word of a `.choice`.
    case text(String)
    /// Three integers z, y, x.
    case coordinate(Coordinate)
    /// A box in voxels.
    case region(Box)
    /// An element type.
    case dataType(DataType)
    /// The output of another stage, by name.
    case stage(String)
    /// A volume in a store.
    case store(StoreAddress)

    /// The value as YAML would write it (documentation, provenance, fingerprints).
    public var description: String {
        switch self {
        case let .integer(value): return String(value)
        case let .number(value): return value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : String(value)
        case let .boolean(value): return value ? "true" : "false"
        case let .text(value): return value
        case let .coordinate(value): return value.description
        case let .region(value): return "\(value.offset.z):\(value.end.z),\(value.offset.y):\(value.end.y),\(value.offset.x):\(value.end.x)"
        case let .dataType(value): return value.rawValue
        case let .stage(name): return name
        case let .store(address): return address.description
        }
    }

    /// The value as a JSON-compatible object (for provenance files and events).
    public var jsonObject: Any {
        switch self {
        case let .integer(value): return value
        case let .number(value): return value
        case let .boolean(value): return value
        case let .coordinate(value): return value.components
        default: return description
        }
    }
}
