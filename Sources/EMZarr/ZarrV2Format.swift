import EMStorage
import EMVolume

/// Zarr v2 `.zarray` documents: parsing and writing.
enum ZarrV2Format {
    /// The supported `dtype` strings, for error messages.
    static let supportedTypes = "|u1 <u2 <u4 <u8 <f4 (or > for big-endian)"
    /// The supported compressor ids, for error messages.
    static let supportedCompressors = "null, zstd, gzip, zlib, blosc"

    /// Reads a `.zarray` document of the array in `directory`.
    ///
    /// Without `dimension_separator` the spec's default is `.`, but zarr-python 2's
    /// `NestedDirectoryStore` wrote nested chunks (`0/0/0`) without the key: reading those
    /// with `.` would see every chunk as missing and return the fill value. The layout on disk
    /// decides then.
    static func parseArray(_ reader: MetadataReader, directory: String) throws -> ZarrArrayDescription {
        let format = try reader.integer("zarr_format")
        guard format == 2 else { throw reader.malformed("zarr_format", "2 in a .zarray file, got \(format)") }
        let shape = try reader.shape("shape")
        let chunks = try reader.shape("chunks")
        let (dataType, byteOrder) = try parseDataType(reader)
        let order = try reader.optionalString("order") ?? "C"
        guard order == "C" else {
            if order == "F" {
                throw StorageError.unsupported(path: reader.path, feature: "order 'F' (Fortran-ordered chunks); emflow reads order 'C': rewrite the array with order='C'")
            }
            throw reader.malformed("order", "\"C\" or \"F\", got \"\(order)\"")
        }
        if let filters = reader.optional("filters") {
            guard case let .array(items) = filters else { throw reader.malformed("filters", "null or an array of codecs") }
            if !items.isEmpty {
                let ids = items.map { item -> String in
                    if case let .object(o) = item, case let .string(id)? = o["id"] { return id }
                    return "?"
                }
                throw StorageError.unknownCodec(path: reader.path, name: "filters [\(ids.joined(separator: ", "))]", supported: "no filters (null)")
            }
        }
        var encoding = ChunkEncoding(byteOrder: byteOrder)
        if let compressor = try reader.optionalObject("compressor") {
            encoding.compressor = try parseCompressor(compressor, elementSize: dataType.size)
        }
        let separator = try reader.optionalString("dimension_separator") ?? ChunkFiles.chunkSeparator(in: directory) ?? "."
        guard separator == "." || separator == "/" else {
            throw reader.malformed("dimension_separator", "\".\" or \"/\", got \"\(separator)\"")
        }
        return ZarrArrayDescription(version: 2, shape: shape, chunkShape: chunks, dataType: dataType,
                                    fillValue: try FillValue.parse(reader, dataType: dataType, allowNull: true),
                                    keyEncoding: ChunkKeyEncoding(prefix: nil, separator: separator),
                                    encoding: encoding, sharding: nil)
    }

    private static func parseDataType(_ reader: MetadataReader) throws -> (DataType, ByteOrder) {
        guard case let .string(text) = try reader.required("dtype", "a dtype string") else {
            throw StorageError.unsupported(path: reader.path, feature: "structured dtype in key 'dtype' (supported: \(supportedTypes))")
        }
        let unsupported = StorageError.unsupported(path: reader.path, feature: "dtype '\(text)' in key 'dtype' (supported: \(supportedTypes))")
        guard text.count == 3, let orderMark = text.first, "<>|".contains(orderMark),
              let dataType = DataType.allCases.first(where: { dtypeSuffix($0) == text.dropFirst() }) else { throw unsupported }
        if orderMark == "|" && dataType.size > 1 { throw unsupported }
        return (dataType, orderMark == ">" ? .big : .little)
    }

    /// `u1`, `u2`, `u4`, `u8` or `f4`.
    private static func dtypeSuffix(_ dataType: DataType) -> String {
        dataType.isFloatingPoint ? "f4" : "u\(dataType.size)"
    }

    /// Reads a numcodecs compressor object (`{"id": "zstd", "level": 5}` and the like).
    static func parseCompressor(_ reader: MetadataReader, elementSize: Int) throws -> Codec {
        let id = try reader.string("id")
        switch id {
        case "zstd": return .zstd(level: try reader.optionalInteger("level") ?? 1)
        case "gzip": return .gzip(level: try reader.optionalInteger("level") ?? 1)
        case "zlib": return .zlib(level: try reader.optionalInteger("level") ?? 1)
        case "blosc":
            let name = try reader.optionalString("cname") ?? "lz4"
            guard let compressor = Codec.BloscCompressor(rawValue: name) else {
                throw StorageError.unknownCodec(path: reader.path, name: "blosc cname '\(name)'",
                                                supported: Codec.BloscCompressor.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let shuffle: Codec.BloscShuffle
            switch try reader.optionalInteger("shuffle") ?? 1 {
            case 0: shuffle = .none
            case 1: shuffle = .byte
            case 2: shuffle = .bit
            case -1: shuffle = elementSize == 1 ? .bit : .byte  // numcodecs AUTOSHUFFLE
            default: throw reader.malformed("shuffle", "-1, 0, 1 or 2")
            }
            return .blosc(compressor: compressor, level: try reader.optionalInteger("clevel") ?? 5, shuffle: shuffle)
        default:
            throw StorageError.unknownCodec(path: reader.path, name: id, supported: supportedCompressors)
        }
    }

    /// The `.zarray` document of an array.
    static func arrayDocument(_ array: ZarrArrayDescription) -> JSONValue {
        let order = array.encoding.byteOrder == .big ? ">" : "<"
        let dtype = (array.dataType.size == 1 ? "|" : order) + dtypeSuffix(array.dataType)
        return .object(JSONObject([
            ("zarr_format", JSONValue(2)),
            ("shape", JSONValue(array.shape)),
            ("chunks", JSONValue(array.chunkShape)),
            ("dtype", .string(dtype)),
            ("compressor", compressorDocument(array.encoding.compressor, elementSize: array.dataType.size)),
            ("fill_value", FillValue.json(array.fillValue, dataType: array.dataType)),
            ("order", .string("C")),
            ("filters", .null),
            ("dimension_separator", .string(array.keyEncoding.separator)),
        ]))
    }

    /// The numcodecs JSON form of a compressor (null for raw).
    static func compressorDocument(_ codec: Codec, elementSize: Int) -> JSONValue {
        switch codec {
        case .raw: return .null
        case let .zstd(level): return .object(JSONObject([("id", .string("zstd")), ("level", JSONValue(level))]))
        case let .gzip(level): return .object(JSONObject([("id", .string("gzip")), ("level", JSONValue(level))]))
        case let .zlib(level): return .object(JSONObject([("id", .string("zlib")), ("level", JSONValue(level))]))
        case let .blosc(compressor, level, shuffle):
            return .object(JSONObject([
                ("id", .string("blosc")), ("cname", .string(compressor.rawValue)), ("clevel", JSONValue(level)),
                ("shuffle", JSONValue(shuffle.rawValue)), ("blocksize", JSONValue(0)),
            ]))
        }
    }
}
