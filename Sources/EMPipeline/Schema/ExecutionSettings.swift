import EMVolume

/// How a pipeline runs: the block layout and the executor's resources (the `execution:`
/// section of a pipeline file).
public struct ExecutionSettings: Hashable, Sendable {
    /// Shape of the write box of each block.
    public var blockShape: Coordinate
    /// Treatment of blocks at the end of the volume.
    public var edgeFit: EdgeFit
    /// Worker threads per stage.
    public var workers: Int
    /// Capacity of the queue in front of each stage, in blocks.
    public var queueDepth: Int
    /// How many times a failed block is tried again before it is reported.
    public var retries: Int
    /// Directory for intermediate results and bookkeeping (nil: beside the first output).
    public var workDirectory: String?

    /// The keys the `execution:` section accepts.
    public static let schema: [ParameterSchema] = [
        .optional("block_shape", .shape, default: .coordinate(Coordinate(64, 256, 256)),
                  "Shape of the box each block writes. Must be a multiple of every output's chunk shape."),
        .optional("edge_fit", .choice(EdgeFit.allCases.map(\.rawValue)), default: .text(EdgeFit.shrink.rawValue),
                  "Blocks at the end of the volume: shrink (cut to the volume), overhang (full-size blocks, clipped when written), valid (only whole blocks; the remainder is not processed)."),
        .optional("workers", .integer(minimum: 1, maximum: 256), default: .integer(2),
                  "Worker threads per stage."),
        .optional("queue_depth", .integer(minimum: 1, maximum: 64), default: .integer(2),
                  "Blocks waiting in front of each stage; peak memory grows with it."),
        .optional("retries", .integer(minimum: 0, maximum: 100), default: .integer(2),
                  "Times a failed block is tried again before it is reported as failed."),
        .optional("work_dir", .text, default: nil,
                  "Directory for intermediate volumes and bookkeeping; by default beside the first output."),
    ]

    /// Settings from validated values (keys of `schema`; absent keys take their defaults).
    init(values: [String: ParameterValue]) {
        func value(_ key: String) -> ParameterValue? {
            values[key] ?? Self.schema.first { $0.name == key }?.defaultValue
        }
        guard case let .coordinate(shape)? = value("block_shape"),
              case let .text(fit)? = value("edge_fit"), let edgeFit = EdgeFit(rawValue: fit),
              case let .integer(workers)? = value("workers"),
              case let .integer(queueDepth)? = value("queue_depth"),
              case let .integer(retries)? = value("retries") else {
            preconditionFailure("execution settings were not validated against ExecutionSettings.schema")
        }
        self.blockShape = shape
        self.edgeFit = edgeFit
        self.workers = workers
        self.queueDepth = queueDepth
        self.retries = retries
        if case let .text(directory)? = value("work_dir") { workDirectory = directory } else { workDirectory = nil }
    }

    /// The settings as `execution:` would write them (provenance).
    public var values: [String: ParameterValue] {
        var result: [String: ParameterValue] = [
            "block_shape": .coordinate(blockShape), "edge_fit": .text(edgeFit.rawValue), "workers": .integer(workers),
            "queue_depth": .integer(queueDepth), "retries": .integer(retries),
        ]
        if let workDirectory { result["work_dir"] = .text(workDirectory) }
        return result
    }
}
