import EMStorage
import EMVolume

/// Zarr v3 `zarr.json` array documents: parsing and writing.
enum ZarrV3Format {
    /// The codecs emflow reads, for error messages.
    static let supportedCodecs = "bytes, sharding_indexed, zstd, gzip, blosc, crc32c, numcodecs.zlib (transpose only as the identity)"

    /// Reads an array's `zarr.json` (already known to have `node_type` "array").
    static func parseArray(_ reader: MetadataReader) throws -> ZarrArrayDescription {
        let shape = try reader.shape("shape")
        let typeName = try reader.string("data_type")
        guard let dataType = DataType(rawValue: typeName) else {
            throw StorageError.unsupported(path: reader.path, feature: "data_type '\(typeName)' (supported: \(DataType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let grid = try reader.object("chunk_grid")
        let gridName = try grid.string("name")
        guard gridName == "regular" else {
            throw StorageError.unsupported(path: reader.path, feature: "chunk_grid '\(gridName)' (emflow reads 'regular')")
        }
        let chunkShape = try grid.object("configuration").shape("chunk_shape")
        let keyEncoding = try parseKeyEncoding(reader)
        if let transformers = reader.optional("storage_transformers"), case let .array(items) = transformers, !items.isEmpty {
            throw StorageError.unsupported(path: reader.path, feature: "storage_transformers")
        }
        let (encoding, sharding) = try parseCodecs(reader, key: "codecs", elementSize: dataType.size, chunkShape: chunkShape, allowSharding: true)
        return ZarrArrayDescription(version: 3, shape: shape, chunkShape: chunkShape, dataType: dataType,
                                    fillValue: try FillValue.parse(reader, dataType: dataType, allowNull: false),
                                    keyEncoding: keyEncoding, encoding: encoding, sharding: sharding)
    }

    private static func parseKeyEncoding(_ reader: MetadataReader) throws -> ChunkKeyEncoding {
        guard let encoding = try reader.optionalObject("chunk_key_encoding") else {
            return ChunkKeyEncoding(prefix: "c", separator: "/")
        }
        let name = try encoding.string("name")
        let separator = try encoding.optionalObject("configuration")?.optionalString("separator")
        guard separator == nil || separator == "/" || separator == "." else {
            throw encoding.malformed("configuration.separator", "\"/\" or \".\", got \"\(separator!)\"")
        }
        switch name {
        case "default": return ChunkKeyEncoding(prefix: "c", separator: separator ?? "/")
        case "v2": return ChunkKeyEncoding(prefix: nil, separator: separator ?? ".")
        default: throw encoding.malformed("name", "\"default\" or \"v2\", got \"\(name)\"")
        }
    }

    /// Reads a codec chain: optional identity transpose, `bytes` or `sharding_indexed`, at
    /// most one compressor, then an optional `crc32c`.
    private static func parseCodecs(_ reader: MetadataReader, key: String, elementSize: Int, chunkShape: Coordinate,
                                    allowSharding: Bool) throws -> (ChunkEncoding, ShardLayout?) {
        var encoding = ChunkEncoding()
        var sharding: ShardLayout?
        var sawArrayToBytes = false, sawCompressor = false
        for codec in try reader.objects(key) {
            let name = try codec.string("name")
            let configuration = try codec.optionalObject("configuration") ?? MetadataReader(JSONObject(), path: codec.path, keyPath: codec.name("configuration"))
            func misplaced(_ rule: String) -> StorageError {
                StorageError.unsupported(path: reader.path, feature: "codec '\(name)' at \(codec.keyPath): \(rule)")
            }
            if encoding.checksum { throw misplaced("only crc32c may come last in the chain") }
            switch name {
            case "transpose":
                let order = try configuration.array("order")
                guard order.count == 3, order.enumerated().allSatisfy({ i, v in if case let .number(n) = v { return n == Double(i) } else { return false } }) else {
                    throw StorageError.unsupported(path: reader.path, feature: "transpose codec at \(codec.keyPath) (emflow reads C-order chunks only; rewrite the array without transpose)")
                }
                if sawArrayToBytes { throw misplaced("an array-to-array codec must come before 'bytes'") }
            case "bytes":
                if sawArrayToBytes { throw misplaced("only one array-to-bytes codec is allowed") }
                sawArrayToBytes = true
                let endian = try configuration.optionalString("endian") ?? "little"
                guard let order = ByteOrder(rawValue: endian) else { throw configuration.malformed("endian", "\"little\" or \"big\", got \"\(endian)\"") }
                encoding.byteOrder = order
            case "sharding_indexed":
                guard allowSharding else { throw misplaced("nested sharding is not supported") }
                if sawArrayToBytes { throw misplaced("only one array-to-bytes codec is allowed") }
                sawArrayToBytes = true
                sharding = try parseSharding(configuration, elementSize: elementSize, shardShape: chunkShape)
            case "zstd", "gzip", "blosc", "numcodecs.zlib":
                guard sawArrayToBytes else { throw misplaced("a compressor must follow 'bytes'") }
                guard !sawCompressor else { throw misplaced("emflow reads at most one compressor per chain") }
                guard sharding == nil else { throw misplaced("compressing whole shards is not supported; compress the inner chunks") }
                sawCompressor = true
                encoding.compressor = try parseCompressor(name, configuration, elementSize: elementSize)
            case "crc32c":
                guard sawArrayToBytes, sharding == nil else { throw misplaced("crc32c must follow 'bytes' (inside a shard's codecs)") }
                encoding.checksum = true
            default:
                throw StorageError.unknownCodec(path: reader.path, name: "\(name) (at \(codec.keyPath))", supported: supportedCodecs)
            }
        }
        guard sawArrayToBytes else { throw reader.malformed(key, "a codec chain containing 'bytes' or 'sharding_indexed'") }
        return (encoding, sharding)
    }

    private static func parseCompressor(_ name: String, _ configuration: MetadataReader, elementSize: Int) throws -> Codec {
        switch name {
        case "zstd": return .zstd(level: try configuration.optionalInteger("level") ?? 0)
        case "gzip": return .gzip(level: try configuration.optionalInteger("level") ?? 5)
        case "numcodecs.zlib": return .zlib(level: try configuration.optionalInteger("level") ?? 1)
        default:
            let cname = try configuration.optionalString("cname") ?? "lz4"
            guard let compressor = Codec.BloscCompressor(rawValue: cname) else {
                throw StorageError.unknownCodec(path: configuration.path, name: "blosc cname '\(cname)'",
                                                supported: Codec.BloscCompressor.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let shuffleName = try configuration.optionalString("shuffle") ?? "noshuffle"
            guard let shuffle = shuffleNames.first(where: { $0.value == shuffleName })?.key else {
                throw configuration.malformed("shuffle", "\"noshuffle\", \"shuffle\" or \"bitshuffle\", got \"\(shuffleName)\"")
            }
            return .blosc(compressor: compressor, level: try configuration.optionalInteger("clevel") ?? 5, shuffle: shuffle)
        }
    }

    private static let shuffleNames: [Codec.BloscShuffle: String] = [.none: "noshuffle", .byte: "shuffle", .bit: "bitshuffle"]

    private static func parseSharding(_ configuration: MetadataReader, elementSize: Int, shardShape: Coordinate) throws -> ShardLayout {
        let inner = try configuration.shape("chunk_shape")
        guard Coordinate.all(Coordinate.zip(shardShape, inner, %), .zero, ==) else {
            throw configuration.malformed("chunk_shape", "inner chunks dividing the shard shape \(shardShape), got \(inner)")
        }
        let (innerEncoding, _) = try parseCodecs(configuration, key: "codecs", elementSize: elementSize, chunkShape: inner, allowSharding: false)
        var indexEncoding = ChunkEncoding()
        if configuration.optional("index_codecs") != nil {
            (indexEncoding, _) = try parseCodecs(configuration, key: "index_codecs", elementSize: 8, chunkShape: inner, allowSharding: false)
            guard indexEncoding.compressor == .raw else {
                throw StorageError.unsupported(path: configuration.path, feature: "compressed shard index (\(configuration.name("index_codecs")))")
            }
        }
        let location = try configuration.optionalString("index_location") ?? "end"
        guard location == "end" || location == "start" else {
            throw configuration.malformed("index_location", "\"end\" or \"start\", got \"\(location)\"")
        }
        return ShardLayout(innerChunkShape: inner, inner: innerEncoding, index: indexEncoding, indexAtEnd: location == "end")
    }

    /// The `zarr.json` document of an array with its attributes.
    static func arrayDocument(_ array: ZarrArrayDescription, attributes: JSONObject) -> JSONValue {
        let codecs: JSONValue
        if let sharding = array.sharding {
            codecs = .array([named("sharding_indexed", [
                ("chunk_shape", JSONValue(sharding.innerChunkShape)),
                ("codecs", codecsDocument(sharding.inner, elementSize: array.dataType.size)),
                ("index_codecs", codecsDocument(sharding.index, elementSize: 8)),
                ("index_location", .string(sharding.indexAtEnd ? "end" : "start")),
            ])])
        } else {
            codecs = codecsDocument(array.encoding, elementSize: array.dataType.size)
        }
        var keyEncoding: [(String, JSONValue)] = [("name", .string(array.keyEncoding.prefix == nil ? "v2" : "default"))]
        keyEncoding.append(("configuration", .object(JSONObject([("separator", .string(array.keyEncoding.separator))]))))
        return .object(JSONObject([
            ("zarr_format", JSONValue(3)),
            ("node_type", .string("array")),
            ("shape", JSONValue(array.shape)),
            ("data_type", .string(array.dataType.rawValue)),
            ("chunk_grid", named("regular", [("chunk_shape", JSONValue(array.chunkShape))])),
            ("chunk_key_encoding", .object(JSONObject(keyEncoding))),
            ("fill_value", FillValue.json(array.fillValue, dataType: array.dataType)),
            ("codecs", codecs),
            ("attributes", .object(attributes)),
            ("dimension_names", .array(["z", "y", "x"].map { .string($0) })),
        ]))
    }

    private static func codecsDocument(_ encoding: ChunkEncoding, elementSize: Int) -> JSONValue {
        var codecs = [named("bytes", [("endian", .string(encoding.byteOrder.rawValue))])]
        switch encoding.compressor {
        case .raw: break
        case let .zstd(level): codecs.append(named("zstd", [("level", JSONValue(level)), ("checksum", .bool(false))]))
        case let .gzip(level): codecs.append(named("gzip", [("level", JSONValue(level))]))
        case let .zlib(level): codecs.append(named("numcodecs.zlib", [("level", JSONValue(level))]))
        case let .blosc(compressor, level, shuffle):
            codecs.append(named("blosc", [
                ("typesize", JSONValue(elementSize)), ("cname", .string(compressor.rawValue)), ("clevel", JSONValue(level)),
                ("shuffle", .string(shuffleNames[shuffle]!)), ("blocksize", JSONValue(0)),
            ]))
        }
        if encoding.checksum { codecs.append(.object(JSONObject([("name", .string("crc32c"))]))) }
        return .array(codecs)
    }

    private static func named(_ name: String, _ configuration: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject([("name", .string(name)), ("configuration", .object(JSONObject(configuration)))]))
    }
}
