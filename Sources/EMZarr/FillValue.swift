import EMStorage
import EMVolume

/// Zarr `fill_value` in JSON: numbers, `"NaN"`, `"Infinity"`, `"-Infinity"`, and (v3) a hex
/// bit pattern such as `"0x7fc00000"` for floats.
enum FillValue {
    /// Parses `fill_value`; JSON null (allowed in v2) means 0.
    static func parse(_ reader: MetadataReader, dataType: DataType, allowNull: Bool) throws -> Double {
        let expected = "a number, \"NaN\", \"Infinity\" or \"-Infinity\"" + (allowNull ? " or null" : "")
        guard let value = reader.optional("fill_value") else {
            if allowNull { return 0 }
            throw reader.malformed("fill_value", "\(expected) (the key is missing)")
        }
        switch value {
        case let .number(n):
            guard !dataType.isFloatingPoint else { return n }
            // An integer array's fill value is an integer the type holds; clamping one that is
            // not would read missing chunks as another value than the writer meant.
            let range = dataType.valueRange
            guard n == n.rounded(), n >= range.lowerBound, n <= range.upperBound else {
                throw reader.malformed("fill_value", "an integer that \(dataType) holds (\(formatBound(range.lowerBound)) to \(formatBound(range.upperBound))), got \(n == n.rounded() && abs(n) < 1e18 ? String(Int64(n)) : String(n))")
            }
            return n
        case let .bool(b) where !dataType.isFloatingPoint: return b ? 1 : 0
        case let .string(s) where dataType.isFloatingPoint:
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                if s.hasPrefix("0x"), let bits = UInt32(s.dropFirst(2), radix: 16) { return Double(Float(bitPattern: bits)) }
                throw reader.malformed("fill_value", expected)
            }
        default:
            throw reader.malformed("fill_value", expected)
        }
    }

    private static func formatBound(_ value: Double) -> String {
        value >= 1.8e19 ? "18446744073709551615" : String(Int64(value))
    }

    /// The JSON form of a fill value for `dataType` (integers rounded and clamped).
    static func json(_ value: Double, dataType: DataType) -> JSONValue {
        func clamped<T: VoxelScalar>(_: T.Type) -> JSONValue { .number(T(clampingDouble: value).doubleValue) }
        switch dataType {
        case .float32:
            if value.isNaN { return .string("NaN") }
            if value.isInfinite { return .string(value > 0 ? "Infinity" : "-Infinity") }
            return clamped(Float.self)
        case .uint8: return clamped(UInt8.self)
        case .uint16: return clamped(UInt16.self)
        case .uint32: return clamped(UInt32.self)
        case .uint64: return clamped(UInt64.self)
        }
    }
}
