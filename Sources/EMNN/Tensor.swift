import CDNNL
import EMVolume
import Foundation

/// 64-byte aligned float storage shared by tensors until one of them mutates.
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Storage for `count` floats, set to zero unless `zeroed` is false (for outputs a primitive
    /// writes completely).
    init(count: Int, zeroed: Bool = true) {
        self.count = count
        pointer = BufferPool.shared.take(count: count)
        if zeroed { pointer.update(repeating: 0, count: max(1, count)) }
    }

    func copy() -> TensorStorage {
        let result = TensorStorage(count: count, zeroed: false)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    deinit { BufferPool.shared.give(pointer, count: count) }
}

/// Keeps freed large buffers for reuse: a network allocates the same activation sizes every
/// iteration, and fresh pages from the system cost a page fault each.
final class BufferPool {
    static let shared = BufferPool()
    /// Buffers smaller than this many floats go straight to the allocator.
    private let minimumCount = 1 << 18
    /// At most this many bytes are kept idle.
    private let limitBytes = 1 << 30
    private var idle: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idleBytes = 0
    private let lock = NSLock()

    func take(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumCount {
            lock.lock()
            let reused = idle[count]?.popLast()
            if reused != nil { idleBytes -= count * 4 }
            lock.unlock()
            if let reused { return reused }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count >= minimumCount {
            lock.lock()
            let keep = idleBytes + count * 4 <= limitBytes
            if keep {
                idle[count, default: []].append(pointer)
                idleBytes += count * 4
            }
            lock.unlock()
            if keep { return }
        }
        pointer.deallocate()
    }
}

/// A 5D float tensor (batch, channels, z, y, x) in one of oneDNN's layouts.
///
/// `Tensor` is a value: copies share storage until one is mutated (copy on write). Padded
/// channel lanes of blocked layouts are always zero.
public struct Tensor {
    /// Logical shape.
    public let shape: TensorShape
    /// Physical layout.
    public let layout: TensorLayout
    var storage: TensorStorage

    /// A zero tensor.
    public init(shape: TensorShape, layout: TensorLayout = .plain) {
        self.init(shape: shape, layout: layout, zeroed: true)
    }

    /// A tensor whose values will all be written; it is zeroed anyway when the layout pads channels.
    init(shape: TensorShape, layout: TensorLayout, zeroed: Bool) {
        self.shape = shape
        self.layout = layout
        let padded = layout.paddedChannels(shape.channels)
        self.storage = TensorStorage(count: shape.batch * padded * shape.spatial.product, zeroed: zeroed || padded != shape.channels)
    }

    /// A plain (NCDHW) tensor holding `values` in NCDHW order.
    public init(shape: TensorShape, values: [Float]) throws {
        guard values.count == shape.elementCount else {
            throw NNError.shapeMismatch("\(values.count) values given for a tensor of shape \(shape) (\(shape.elementCount) elements)")
        }
        self.init(shape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A one-sample, one-channel plain tensor with the voxels of `volume`.
    public init(volume: Volume<Float>) {
        self.init(shape: TensorShape(channels: 1, spatial: volume.shape))
        volume.storage.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A plain tensor stacking one-channel volumes of equal shape as a batch.
    public init(batch volumes: [Volume<Float>]) throws {
        guard let first = volumes.first else { throw NNError.shapeMismatch("a batch needs at least one volume") }
        guard volumes.allSatisfy({ $0.shape == first.shape }) else {
            throw NNError.shapeMismatch("batch volumes differ in shape: \(volumes.map { $0.shape })")
        }
        self.init(shape: TensorShape(batch: volumes.count, channels: 1, spatial: first.shape))
        let n = first.shape.product
        for (i, volume) in volumes.enumerated() {
            volume.storage.withUnsafeBufferPointer { (storage.pointer + i * n).update(from: $0.baseAddress!, count: n) }
        }
    }

    /// Lanes per channel block.
    public var block: Int { layout.block(channels: shape.channels) }
    /// Channels including zero padding.
    public var paddedChannels: Int { layout.paddedChannels(shape.channels) }
    /// Voxels per channel.
    public var spatialCount: Int { shape.spatial.product }
    /// Stored floats (including padded lanes).
    public var storageCount: Int { storage.count }

    /// Offset of channel `c` of sample `n`; its voxels follow with stride `block`.
    func channelOffset(_ n: Int, _ c: Int) -> Int {
        let b = block
        return ((n * (paddedChannels / b) + c / b) * spatialCount) * b + c % b
    }

    /// Reads or writes one element (for tests and small tensors; not for hot loops).
    public subscript(n: Int, c: Int, z: Int, y: Int, x: Int) -> Float {
        get { storage.pointer[channelOffset(n, c) + ((z * shape.spatial.y + y) * shape.spatial.x + x) * block] }
        set {
            makeUnique()
            storage.pointer[channelOffset(n, c) + ((z * shape.spatial.y + y) * shape.spatial.x + x) * block] = newValue
        }
    }

    /// Copies the storage if another tensor shares it.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Raw storage (including padding), read-only.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Raw storage (including padding), writable; padded lanes must stay zero.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The elements in plain NCDHW order.
    public func toArray() -> [Float] {
        let plain = converted(to: .plain)
        return Array(UnsafeBufferPointer(start: plain.storage.pointer, count: shape.elementCount))
    }

    /// One channel of one sample as a volume at the origin.
    public func volume(batch n: Int = 0, channel c: Int = 0) -> Volume<Float> {
        var result = Volume<Float>(shape: shape.spatial)
        let base = channelOffset(n, c), b = block
        result.storage.withUnsafeMutableBufferPointer { out in
            for s in 0..<out.count { out[s] = storage.pointer[base + s * b] }
        }
        return result
    }

    /// The same tensor in another layout (large tensors are reordered by oneDNN's vectorised
    /// reorder, small ones copied directly).
    public func converted(to target: TensorLayout) -> Tensor {
        if target == layout { return self }
        var result = Tensor(shape: shape, layout: target, zeroed: false)
        if shape.elementCount >= 1 << 16, (try? LayoutReorder.run(from: self, into: &result)) != nil { return result }
        copyChannelRegion(from: self, channel: 0, origin: .zero, into: &result, channel: 0, origin: .zero,
                          channels: shape.channels, extent: shape.spatial)
        return result
    }

    /// oneDNN's descriptor of this tensor.
    func memoryDescriptor() throws -> dnnl_memory_desc_t {
        try EMNN.memoryDescriptor(shape.dims, tag: layout.tag)
    }

    /// Pointer for oneDNN arguments that are only read.
    var readPointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(storage.pointer) }

    /// Pointer for oneDNN arguments that are written (after making the storage unique).
    mutating func writePointer() -> UnsafeMutableRawPointer {
        makeUnique()
        return UnsafeMutableRawPointer(storage.pointer)
    }
}
