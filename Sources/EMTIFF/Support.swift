import EMVolume
import Foundation

/// Fills `rows` rows of `columns` voxels, `rowStride` bytes apart, with `value` converted to
/// `dataType` (rounded and clamped for integers).
func fillRows(_ destination: UnsafeMutableRawPointer, rows: Int, columns: Int, rowStride: Int, value: VoxelValue, dataType: DataType) {
    for row in 0..<rows { value.fill(destination + row * rowStride, count: columns, as: dataType) }
}

/// A readers-writer lock: many holders of the shared side, or one of the exclusive side.
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` holding the shared side.
    func shared<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Runs `body` holding the exclusive side.
    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// Size in bytes of the file at `path`, or 0 when it does not exist.
func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : 0
}
