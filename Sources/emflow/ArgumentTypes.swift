import ArgumentParser
import EMPipeline
import EMStorage
import EMVolume

// Option values parsed by ArgumentParser itself: a malformed value is refused before the
// command runs, with the option named, as every other usage error is.

/// `z,y,x` (or one number for all three axes), as `Coordinate.parse` reads it.
extension Coordinate: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = try? Coordinate.parse(argument) else { return nil }
        self = value
    }
}

/// `INDEX/COUNT`, e.g. `2/4`.
extension BlockShard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = try? BlockShard.parse(argument) else { return nil }
        self = value
    }
}

/// A codec by its command-line name (`Codec.commandLineNames` and the aliases `Codec.parse`
/// accepts); the level comes from its own option. Options parse it with `named` rather than
/// `ExpressibleByArgument`, whose refusal cannot say which codec was meant.
struct CodecName: Hashable {
    /// The name, lower case.
    let name: String

    init(_ name: String) {
        self.name = name
    }

    /// The codec called `text`, or a usage error with the closest name.
    @Sendable static func named(_ text: String) throws -> CodecName {
        do {
            _ = try Codec.parse(text)
        } catch {
            throw ValidationError("\(error)")
        }
        return CodecName(text.lowercased())
    }

    /// What the shell completes `--codec` with.
    static let completion = CompletionKind.list(Codec.commandLineNames)

    /// The codec at `level` (nil: the codec's default level).
    func codec(level: Int? = nil) throws -> Codec { try Codec.parse(name, level: level) }
}
