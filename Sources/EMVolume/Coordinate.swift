import Foundation

/// A point or an extent in voxel space, axes ordered z, y, x (slowest to fastest).
///
/// `Coordinate` serves both as a position (a `Box`'s offset) and as a shape; arithmetic is
/// component-wise.
public struct Coordinate: Hashable, Codable, Sendable, CustomStringConvertible {
    public var z: Int
    public var y: Int
    public var x: Int

    /// Creates a coordinate from its z, y and x components.
    public init(_ z: Int, _ y: Int, _ x: Int) {
        self.z = z
        self.y = y
        self.x = x
    }

    /// Creates a coordinate from labelled z, y and x components.
    public init(z: Int, y: Int, x: Int) {
        self.init(z, y, x)
    }

    /// Creates a coordinate with all three components equal to `value`.
    public init(repeating value: Int) {
        self.init(value, value, value)
    }

    /// Creates a coordinate from an array of exactly three components (z, y, x).
    public init?(_ components: [Int]) {
        guard components.count == 3 else { return nil }
        self.init(components[0], components[1], components[2])
    }

    /// The origin (0, 0, 0).
    public static let zero = Coordinate(0, 0, 0)

    /// The components as an array `[z, y, x]`.
    public var components: [Int] { [z, y, x] }

    /// The product of the components: the voxel count of a shape.
    public var product: Int { z * y * x }

    /// Accesses a component by axis index (0 = z, 1 = y, 2 = x).
    public subscript(axis: Int) -> Int {
        get {
            switch axis {
            case 0: return z
            case 1: return y
            case 2: return x
            default: preconditionFailure("axis \(axis) out of range 0...2")
            }
        }
        set {
            switch axis {
            case 0: z = newValue
            case 1: y = newValue
            case 2: x = newValue
            default: preconditionFailure("axis \(axis) out of range 0...2")
            }
        }
    }

    /// Applies `transform` to each component.
    public func map(_ transform: (Int) throws -> Int) rethrows -> Coordinate {
        Coordinate(try transform(z), try transform(y), try transform(x))
    }

    /// Combines two coordinates component by component.
    public static func zip(_ a: Coordinate, _ b: Coordinate, _ combine: (Int, Int) throws -> Int) rethrows -> Coordinate {
        Coordinate(try combine(a.z, b.z), try combine(a.y, b.y), try combine(a.x, b.x))
    }

    /// True when `predicate` holds for every pair of components.
    public static func all(_ a: Coordinate, _ b: Coordinate, _ predicate: (Int, Int) -> Bool) -> Bool {
        predicate(a.z, b.z) && predicate(a.y, b.y) && predicate(a.x, b.x)
    }

    public static func + (a: Coordinate, b: Coordinate) -> Coordinate { zip(a, b, +) }
    public static func - (a: Coordinate, b: Coordinate) -> Coordinate { zip(a, b, -) }
    public static func * (a: Coordinate, b: Coordinate) -> Coordinate { zip(a, b, *) }
    public static func * (a: Coordinate, s: Int) -> Coordinate { a.map { $0 * s } }
    public static prefix func - (a: Coordinate) -> Coordinate { a.map { -$0 } }

    /// Component-wise floor division (rounds toward negative infinity).
    public static func floorDivide(_ a: Coordinate, _ b: Coordinate) -> Coordinate {
        zip(a, b, floorDivide)
    }

    /// Floor division of integers (rounds toward negative infinity) for a positive divisor.
    public static func floorDivide(_ n: Int, _ d: Int) -> Int {
        n >= 0 ? n / d : -((-n + d - 1) / d)
    }

    /// Component-wise ceiling division for non-negative numerators.
    public static func ceilDivide(_ a: Coordinate, _ b: Coordinate) -> Coordinate {
        zip(a, b) { n, d in (n + d - 1) / d }
    }

    /// Component-wise minimum.
    public static func minimum(_ a: Coordinate, _ b: Coordinate) -> Coordinate { zip(a, b, Swift.min) }
    /// Component-wise maximum.
    public static func maximum(_ a: Coordinate, _ b: Coordinate) -> Coordinate { zip(a, b, Swift.max) }

    /// `z,y,x`, the form the command line accepts.
    public var description: String { "\(z),\(y),\(x)" }

    /// Parses `z,y,x` (or a single number meaning all three axes).
    ///
    /// - Throws: `GeometryError.malformed` naming the text and the expected form.
    public static func parse(_ text: String, what: String = "coordinate") throws -> Coordinate {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = parts.compactMap { Int($0) }
        if numbers.count == parts.count, numbers.count == 3 { return Coordinate(numbers[0], numbers[1], numbers[2]) }
        if numbers.count == parts.count, numbers.count == 1 { return Coordinate(repeating: numbers[0]) }
        throw GeometryError.malformed(text: text, expected: "\(what) as z,y,x integers (e.g. 64,256,256)")
    }
}

/// Errors raised by geometry parsing and validation.
public enum GeometryError: Error, CustomStringConvertible, Equatable {
    /// Text that does not parse; `expected` says what form was wanted.
    case malformed(text: String, expected: String)
    /// A shape or size that cannot be used.
    case invalid(String)

    public var description: String {
        switch self {
        case let .malformed(text, expected): return "cannot parse '\(text)': expected \(expected)"
        case let .invalid(message): return message
        }
    }
}
