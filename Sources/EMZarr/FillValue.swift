import EMStorage
import EMVolume

/// Zarr `fill_value` in JSON: numbers, `"NaN"`, `"Infinity"`, `"-Infinity"`, and (v3) a hex
/// bit pattern such as `"0x7fc00000"` for floats. Integers stay exact (uint64 beyond 2^53).
enum FillValue {
    /// Parses `fill_value`; JSON null (allowed in v2) means 0.
    static func parse(_ reader: MetadataReader, dataType: DataType, allowNull: Bool) throws -> VoxelValue {
        let expected = "a number, \"NaN\", \"Infinity\" or \"-Infinity\"" + (allowNull ? " or null" : "")
        guard let value = reader.optional("fill_value") else {
            if allowNull { return 0 }
            throw reader.malformed("fill_value", "\(expected) (the key is missing)")
        }
        switch value {
        case let .number(n):
            return try exact(.real(n), dataType: dataType, reader: reader)
        case let .largeInteger(i):
            return try exact(.integer(i), dataType: dataType, reader: reader)
        case let .bool(b) where !dataType.isFloatingPoint: return b ? 1 : 0
        case let .string(s) where dataType.isFloatingPoint:
            switch s {
            case "NaN": return .nan
            case "Infinity": return .real(.infinity)
            case "-Infinity": return .real(-.infinity)
            default:
                if s.hasPrefix("0x"), let bits = UInt32(s.dropFirst(2), radix: 16) { return .real(Double(Float(bitPattern: bits))) }
                throw reader.malformed("fill_value", expected)
            }
        default:
            throw reader.malformed("fill_value", expected)
        }
    }

    /// `number` as a `dataType` value. An integer array's fill value is an integer the type
    /// holds; clamping one that is not would read missing chunks as another value than the
    /// writer meant.
    private static func exact(_ number: VoxelValue, dataType: DataType, reader: MetadataReader) throws -> VoxelValue {
        guard let range = dataType.integerRange else { return .real(number.doubleValue) }
        guard let integer = number.exactInteger, range.contains(integer) else {
            throw reader.malformed("fill_value", "an integer that \(dataType) holds (\(range.lowerBound) to \(range.upperBound)), got \(number)")
        }
        return .integer(integer)
    }

    /// The JSON form of a fill value for `dataType` (integers exact, clamped to the type).
    static func json(_ value: VoxelValue, dataType: DataType) -> JSONValue {
        switch value.converted(to: dataType) {
        case let .integer(i): return Double(exactly: i).map(JSONValue.number) ?? .largeInteger(i)
        case let .real(d):
            if d.isNaN { return .string("NaN") }
            if d.isInfinite { return .string(d > 0 ? "Infinity" : "-Infinity") }
            return .number(d)
        }
    }
}
