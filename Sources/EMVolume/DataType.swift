/// Element types a volume can hold.
public enum DataType: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case uint8, uint16, uint32, uint64, float32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .uint8: return 1
        case .uint16: return 2
        case .uint32: return 4
        case .uint64: return 8
        case .float32: return 4
        }
    }

    /// True for `float32`.
    public var isFloatingPoint: Bool { self == .float32 }

    public var description: String { rawValue }

    /// Parses a type name (`uint8`, `u1`, `float32`, `f4`, ...).
    public init?(name: String) {
        switch name.lowercased() {
        case "uint8", "u1", "u8": self = .uint8
        case "uint16", "u2", "u16": self = .uint16
        case "uint32", "u4", "u32": self = .uint32
        case "uint64", "u64": self = .uint64
        case "float32", "f4", "float", "f32": self = .float32
        default: return nil
        }
    }
}

/// A scalar type that can be a voxel: one of the `DataType` cases.
public protocol VoxelScalar: Numeric, Comparable, Sendable, Codable {
    /// The runtime type tag of this scalar.
    static var dataType: DataType { get }
    /// Converts from a double, rounding and clamping for integer types.
    init(clampingDouble value: Double)
    /// The value as a double.
    var doubleValue: Double { get }
}

extension VoxelScalar where Self: FixedWidthInteger {
    public init(clampingDouble value: Double) {
        if value.isNaN { self = 0; return }
        let rounded = value.rounded()
        if rounded <= Double(Self.min) { self = Self.min }
        else if rounded >= Double(Self.max) { self = Self.max }
        else { self = Self(rounded) }
    }

    public var doubleValue: Double { Double(self) }
}

extension UInt8: VoxelScalar { public static var dataType: DataType { .uint8 } }
extension UInt16: VoxelScalar { public static var dataType: DataType { .uint16 } }
extension UInt32: VoxelScalar { public static var dataType: DataType { .uint32 } }
extension UInt64: VoxelScalar { public static var dataType: DataType { .uint64 } }
extension Float: VoxelScalar {
    public static var dataType: DataType { .float32 }
    public init(clampingDouble value: Double) { self = Float(value) }
    public var doubleValue: Double { Double(self) }
}
