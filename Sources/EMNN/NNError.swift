/// Errors raised by the neural-network engine.
///
/// Every case carries enough context to act on: the primitive or operation that failed, the
/// shapes involved, or what a configuration would need to be valid.
public enum NNError: Error, CustomStringConvertible, Equatable {
    /// A oneDNN call failed; `operation` names the primitive and shapes, `status` the library's code.
    case library(operation: String, status: String)
    /// oneDNN offered only its slow reference implementation for a primitive we refuse to run that way.
    case referenceImplementation(primitive: String, implementation: String)
    /// Tensors or parameters whose shapes do not fit the operation.
    case shapeMismatch(String)
    /// A network or optimiser configuration that cannot work; the message says what would.
    case invalidConfiguration(String)
    /// A checkpoint file that cannot be read or written.
    case checkpoint(path: String, message: String)
    /// Training that cannot go on (a diverged loss), with what to change.
    case training(String)

    /// A readable description.
    public var description: String {
        switch self {
        case let .library(operation, status): return "oneDNN failed in \(operation): \(status)"
        case let .referenceImplementation(primitive, implementation):
            return "oneDNN chose its reference implementation '\(implementation)' for \(primitive); "
                + "refusing it (it is orders of magnitude slower). Use blocked layouts (format 'any')."
        case let .shapeMismatch(message): return "shape mismatch: \(message)"
        case let .invalidConfiguration(message): return "invalid configuration: \(message)"
        case let .checkpoint(path, message): return "checkpoint \(path): \(message)"
        case let .training(message): return "training stopped: \(message)"
        }
    }
}
