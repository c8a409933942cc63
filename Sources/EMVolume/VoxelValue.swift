/// One voxel value held exactly, such as a volume's fill value. Integers keep every digit
/// (a uint64 fill of 2^64-1 or 2^60+1 is not a `Double`: passing it through one reads missing
/// chunks as another label); floating-point values are doubles.
public enum VoxelValue: Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// An integer, wide enough for every int64 and uint64 value.
    case integer(Int128)
    /// A floating-point value (NaN and the infinities included).
    case real(Double)

    /// Not a number, for float volumes.
    public static let nan = VoxelValue.real(.nan)

    public init(integerLiteral value: Int) { self = .integer(Int128(value)) }
    public init(floatLiteral value: Double) { self = .real(value) }

    /// The value of one element of `T`, exact.
    public init<T: VoxelScalar>(_ scalar: T) {
        if let integer = scalar as? any FixedWidthInteger { self = .integer(Int128(integer)) }
        else { self = .real(scalar.doubleValue) }
    }

    /// The value as a double (integers beyond 2^53 round).
    public var doubleValue: Double {
        switch self {
        case let .integer(i): return Double(i)
        case let .real(d): return d
        }
    }

    /// True for NaN.
    public var isNaN: Bool { if case let .real(d) = self { return d.isNaN } else { return false } }

    /// The integer this value is exactly, if any (`7.0` is 7; `7.5`, NaN and infinities are not).
    public var exactInteger: Int128? {
        switch self {
        case let .integer(i): return i
        case let .real(d): return Int128(exactly: d)
        }
    }

    /// The value as one element of `T`: integers exact when they fit, clamped when they do not.
    public func scalar<T: VoxelScalar>(_: T.Type) -> T {
        if let integerType = T.self as? any FixedWidthInteger.Type, case let .integer(i) = self {
            return Self.clamp(i, to: integerType) as! T
        }
        return T(clampingDouble: doubleValue)
    }

    private static func clamp<I: FixedWidthInteger>(_ value: Int128, to _: I.Type) -> I {
        I(clamping: value)
    }

    /// This value as `dataType` holds it: rounded and clamped for integer types, rounded to
    /// single precision for `float32`.
    public func converted(to dataType: DataType) -> VoxelValue {
        switch dataType {
        case .uint8: return VoxelValue(scalar(UInt8.self))
        case .uint16: return VoxelValue(scalar(UInt16.self))
        case .uint32: return VoxelValue(scalar(UInt32.self))
        case .uint64: return VoxelValue(scalar(UInt64.self))
        case .float32: return VoxelValue(scalar(Float.self))
        }
    }

    /// The host-order bytes of one element of `dataType` holding this value.
    public func elementBytes(as dataType: DataType) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: dataType.size)
        bytes.withUnsafeMutableBytes { fill($0.baseAddress!, count: 1, as: dataType) }
        return bytes
    }

    /// Sets `count` elements of `dataType` at `destination` to this value.
    public func fill(_ destination: UnsafeMutableRawPointer, count: Int, as dataType: DataType) {
        func fill<T: VoxelScalar>(_: T.Type) { destination.initializeMemory(as: T.self, repeating: scalar(T.self), count: count) }
        switch dataType {
        case .uint8: fill(UInt8.self)
        case .uint16: fill(UInt16.self)
        case .uint32: fill(UInt32.self)
        case .uint64: fill(UInt64.self)
        case .float32: fill(Float.self)
        }
    }

    /// Digits for integers (every one of them), Swift's shortest form for other values, and
    /// `NaN`, `Infinity`, `-Infinity` as the Zarr specifications spell them.
    public var description: String {
        switch self {
        case let .integer(i): return String(i)
        case let .real(d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            if let i = Int128(exactly: d), abs(d) < 1e18 { return String(i) }
            return String(d)
        }
    }

    /// Numeric equality: `.integer(7) == .real(7.0)`; NaN equals NaN (a fill value compares
    /// as the same setting, not as IEEE arithmetic).
    public static func == (a: VoxelValue, b: VoxelValue) -> Bool {
        switch (a, b) {
        case let (.integer(x), .integer(y)): return x == y
        case let (.real(x), .real(y)): return x == y || (x.isNaN && y.isNaN)
        default: return a.exactInteger != nil && a.exactInteger == b.exactInteger
        }
    }

    public func hash(into hasher: inout Hasher) {
        if let i = exactInteger { hasher.combine(i) } else if isNaN { hasher.combine(Double.nan.bitPattern) } else { hasher.combine(doubleValue) }
    }
}

extension DataType {
    /// The values an integer type holds, exactly (nil for `float32`).
    public var integerRange: ClosedRange<Int128>? {
        switch self {
        case .uint8: return 0...Int128(UInt8.max)
        case .uint16: return 0...Int128(UInt16.max)
        case .uint32: return 0...Int128(UInt32.max)
        case .uint64: return 0...Int128(UInt64.max)
        case .float32: return nil
        }
    }
}

extension VoxelValue: Codable {
    /// Integers as JSON integers (exact, uint64 included); NaN and the infinities as strings.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .integer(i):
            if let signed = Int64(exactly: i) { try container.encode(signed) } else { try container.encode(UInt64(clamping: i)) }
        case let .real(d):
            if d.isFinite { try container.encode(d) } else { try container.encode(description) }
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let signed = try? container.decode(Int64.self) { self = .integer(Int128(signed)) }
        else if let unsigned = try? container.decode(UInt64.self) { self = .integer(Int128(unsigned)) }
        else if let real = try? container.decode(Double.self) { self = .real(real) }
        else {
            let text = try container.decode(String.self)
            switch text {
            case "NaN": self = .nan
            case "Infinity": self = .real(.infinity)
            case "-Infinity": self = .real(-.infinity)
            default: throw DecodingError.dataCorruptedError(in: container, debugDescription: "a number, \"NaN\", \"Infinity\" or \"-Infinity\", got \"\(text)\"")
            }
        }
    }
}
