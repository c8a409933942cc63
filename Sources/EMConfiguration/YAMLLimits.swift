import Yams

/// Bounds on the YAML emflow parses, checked on the text before the parser sees it.
///
/// The YAML composer builds nodes recursively, so a file nested a few thousand levels deep
/// (10 KB of `[[[[...`) overflows the stack and ends the process; aliases copy the node
/// they name, so a few lines of nested aliases grow to gigabytes. Pipeline and training files
/// need neither: the limits are far above any real file and turn such input into an error
/// that names the line.
public enum YAMLLimits {
    /// Deepest nesting of mappings and sequences accepted.
    public static let maximumDepth = 64
    /// Most alias references (`*name`) accepted.
    public static let maximumAliases = 256
    /// Largest file accepted, in bytes.
    public static let maximumBytes = 4 << 20

    /// Input over one of the limits.
    public struct Exceeded: Error, CustomStringConvertible {
        /// 1-based line where the limit was passed.
        public var line: Int
        /// Which limit, and by how much.
        public var message: String
        public var description: String { message }
    }

    /// Checks `text` against the limits, then composes it.
    public static func compose(yaml text: String) throws -> Node? {
        try check(text)
        return try Yams.compose(yaml: text)
    }

    /// Throws `Exceeded` when `text` is too large, nests too deeply or holds too many aliases.
    ///
    /// Depth is counted without parsing: open flow brackets (`[`, `{`) outside quotes and
    /// comments, plus the block levels of indentation and of `- ` items on one line. That
    /// over-counts nothing a parser would accept at a smaller depth.
    static func check(_ text: String) throws {
        guard text.utf8.count <= maximumBytes else {
            throw Exceeded(line: 1, message: "the file has \(text.utf8.count) bytes; emflow reads YAML files of at most \(maximumBytes >> 20) MiB")
        }
        var flowDepth = 0, aliases = 0, line = 1
        var indents: [Int] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { line += 1 }
            let bytes = Array(rawLine.utf8)
            var column = 0
            while column < bytes.count, bytes[column] == UInt8(ascii: " ") { column += 1 }
            guard column < bytes.count, bytes[column] != UInt8(ascii: "#") else { continue }
            var blockDepth = 0
            if flowDepth == 0 {
                while let last = indents.last, last >= column { indents.removeLast() }
                indents.append(column)
                // `- - - x` opens one level per dash.
                var i = column
                while i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] == UInt8(ascii: " ") {
                    blockDepth += 1
                    i += 2
                    while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
                }
            }
            var quote: UInt8? = nil
            var index = column
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if byte == open { quote = nil }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
                    case UInt8(ascii: "#") where index == 0 || bytes[index - 1] == UInt8(ascii: " "): index = bytes.count
                    case UInt8(ascii: "["), UInt8(ascii: "{"): flowDepth += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"): flowDepth = max(flowDepth - 1, 0)
                    case UInt8(ascii: "*") where index == 0 || [UInt8(ascii: " "), UInt8(ascii: "["), UInt8(ascii: ","), UInt8(ascii: "{")].contains(bytes[index - 1]):
                        aliases += 1
                    default: break
                    }
                }
                if indents.count + blockDepth + flowDepth > maximumDepth {
                    throw Exceeded(line: line, message: "nesting deeper than \(maximumDepth) levels; pipeline and training files need only a few")
                }
                index += 1
            }
            if aliases > maximumAliases {
                throw Exceeded(line: line, message: "more than \(maximumAliases) alias references (*name); write the values out instead")
            }
        }
    }
}
