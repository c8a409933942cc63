import EMStorage
import EMVolume

/// A block of voxels of any element type: what flows between stages.
///
/// Stages dispatch on the type once per block (`apply`), then run a typed loop.
public enum AnyVolume: Sendable {
    /// 8-bit unsigned voxels.
    case uint8(Volume<UInt8>)
    /// 16-bit unsigned voxels.
    case uint16(Volume<UInt16>)
    /// 32-bit unsigned voxels.
    case uint32(Volume<UInt32>)
    /// 64-bit unsigned voxels.
    case uint64(Volume<UInt64>)
    /// 32-bit floating-point voxels.
    case float32(Volume<Float>)

    /// Wraps a typed volume.
    public init<T: VoxelScalar>(_ volume: Volume<T>) {
        switch T.dataType {
        case .uint8: self = .uint8(volume as! Volume<UInt8>)
        case .uint16: self = .uint16(volume as! Volume<UInt16>)
        case .uint32: self = .uint32(volume as! Volume<UInt32>)
        case .uint64: self = .uint64(volume as! Volume<UInt64>)
        case .float32: self = .float32(volume as! Volume<Float>)
        }
    }

    /// A volume of `dataType` covering `box`, every voxel `value`.
    public init(dataType: DataType, box: Box, repeating value: Double = 0) {
        switch dataType {
        case .uint8: self = .uint8(Volume(box: box, repeating: UInt8(clampingDouble: value)))
        case .uint16: self = .uint16(Volume(box: box, repeating: UInt16(clampingDouble: value)))
        case .uint32: self = .uint32(Volume(box: box, repeating: UInt32(clampingDouble: value)))
        case .uint64: self = .uint64(Volume(box: box, repeating: UInt64(clampingDouble: value)))
        case .float32: self = .float32(Volume(box: box, repeating: Float(value)))
        }
    }

    /// Runs a typed operation on the wrapped volume.
    public func apply<Operation: VolumeOperation>(_ operation: Operation) throws -> Operation.Result {
        switch self {
        case let .uint8(volume): return try operation.run(volume)
        case let .uint16(volume): return try operation.run(volume)
        case let .uint32(volume): return try operation.run(volume)
        case let .uint64(volume): return try operation.run(volume)
        case let .float32(volume): return try operation.run(volume)
        }
    }

    /// The element type.
    public var dataType: DataType {
        switch self {
        case .uint8: return .uint8
        case .uint16: return .uint16
        case .uint32: return .uint32
        case .uint64: return .uint64
        case .float32: return .float32
        }
    }

    /// Where the voxels sit.
    public var box: Box {
        switch self {
        case let .uint8(v): return v.box
        case let .uint16(v): return v.box
        case let .uint32(v): return v.box
        case let .uint64(v): return v.box
        case let .float32(v): return v.box
        }
    }

    /// Bytes held.
    public var byteCount: Int { box.voxelCount * dataType.size }

    /// A copy of the part inside `region` (which must lie inside `box`).
    public func cropped(to region: Box) -> AnyVolume {
        if region == box { return self }
        // Cropping cannot fail.
        return try! apply(Crop(region: region))
    }

    /// The voxels converted to `type` (rounded and clamped for integer types).
    public func converted(to type: DataType) -> AnyVolume {
        if type == dataType { return self }
        return try! apply(Convert(type: type))
    }

    /// Reads `box` from `store`; voxels outside the stored volume read as `fill`.
    public static func read(_ box: Box, from store: VolumeStore, fill: VoxelValue) throws -> AnyVolume {
        var volume = AnyVolume(dataType: store.metadata.dataType, box: box)
        try volume.withUnsafeMutableBytes { try store.readBytes(box, into: $0, outside: .fill(fill)) }
        return volume
    }

    /// Writes the voxels to `store` at their box (chunk-aligned), converting to the store's type.
    public func write(to store: VolumeStore) throws {
        let typed = converted(to: store.metadata.dataType)
        try typed.withUnsafeBytes { try store.writeBytes(typed.box, from: $0) }
    }

    /// The raw bytes (z, y, x order, native byte order).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case let .uint8(v): return try v.storage.withUnsafeBytes(body)
        case let .uint16(v): return try v.storage.withUnsafeBytes(body)
        case let .uint32(v): return try v.storage.withUnsafeBytes(body)
        case let .uint64(v): return try v.storage.withUnsafeBytes(body)
        case let .float32(v): return try v.storage.withUnsafeBytes(body)
        }
    }

    /// The raw bytes for writing.
    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case var .uint8(v): defer { self = .uint8(v) }; return try v.storage.withUnsafeMutableBytes(body)
        case var .uint16(v): defer { self = .uint16(v) }; return try v.storage.withUnsafeMutableBytes(body)
        case var .uint32(v): defer { self = .uint32(v) }; return try v.storage.withUnsafeMutableBytes(body)
        case var .uint64(v): defer { self = .uint64(v) }; return try v.storage.withUnsafeMutableBytes(body)
        case var .float32(v): defer { self = .float32(v) }; return try v.storage.withUnsafeMutableBytes(body)
        }
    }
}

/// An operation written once for every element type, run on an `AnyVolume` by `apply`.
public protocol VolumeOperation {
    /// What the operation produces.
    associatedtype Result
    /// Runs the operation on a typed volume.
    func run<T: VoxelScalar>(_ volume: Volume<T>) throws -> Result
}

private struct Crop: VolumeOperation {
    let region: Box
    func run<T: VoxelScalar>(_ volume: Volume<T>) -> AnyVolume { AnyVolume(volume.cropped(to: region)) }
}

private struct Convert: VolumeOperation {
    let type: DataType
    func run<T: VoxelScalar>(_ volume: Volume<T>) -> AnyVolume {
        switch type {
        case .uint8: return AnyVolume(convert(volume, to: UInt8.self))
        case .uint16: return AnyVolume(convert(volume, to: UInt16.self))
        case .uint32: return AnyVolume(convert(volume, to: UInt32.self))
        case .uint64: return AnyVolume(convert(volume, to: UInt64.self))
        case .float32: return AnyVolume(convert(volume, to: Float.self))
        }
    }

    private func convert<T: VoxelScalar, U: VoxelScalar>(_ volume: Volume<T>, to: U.Type) -> Volume<U> {
        var result = Volume<U>(box: volume.box)
        volume.storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count { target[i] = U(clampingDouble: source[i].doubleValue) }
            }
        }
        return result
    }
}

extension AnyVolume {
    /// The same voxels placed at `box` (of the same shape).
    public func moved(to box: Box) -> AnyVolume {
        precondition(box.shape == self.box.shape, "cannot move a volume of shape \(self.box.shape) to \(box)")
        switch self {
        case var .uint8(v): v.box = box; return .uint8(v)
        case var .uint16(v): v.box = box; return .uint16(v)
        case var .uint32(v): v.box = box; return .uint32(v)
        case var .uint64(v): v.box = box; return .uint64(v)
        case var .float32(v): v.box = box; return .float32(v)
        }
    }
}
