/// What went wrong encoding or writing an image; each case says what was expected.
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    /// Width or height not positive, or too large for the format.
    case invalidSize(width: Int, height: Int, reason: String)
    /// A pixel or mask buffer whose length does not match the image.
    case bufferSize(what: String, count: Int, expected: Int)
    /// zlib reported an error.
    case compression(code: Int32)
    /// The file could not be written.
    case unwritable(path: String, reason: String)

    /// The message shown to the user.
    public var description: String {
        switch self {
        case let .invalidSize(width, height, reason):
            return "image size \(width) x \(height) is invalid: \(reason)"
        case let .bufferSize(what, count, expected):
            return "\(what) holds \(count) bytes, expected \(expected)"
        case let .compression(code):
            return "zlib compression failed with code \(code)"
        case let .unwritable(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
