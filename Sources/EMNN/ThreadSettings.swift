import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Thread counts of the two compute libraries: oneDNN (OpenMP) and OpenBLAS (pthreads).
///
/// Both pools spin-wait after their work; the engine runs their phases one after the other, so
/// giving both the same count (the cores available to this process) is the right default.
public enum ThreadSettings {
    private typealias SetThreads = @convention(c) (Int32) -> Void

    /// OpenMP's `omp_set_num_threads`, found at run time in the OpenMP runtime oneDNN loads.
    private static let ompSetNumThreads: SetThreads? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: SetThreads.self)
    }()

    /// Uses `count` threads for oneDNN on the calling thread and for OpenBLAS globally.
    public static func apply(_ count: Int) {
        let count = Int32(max(1, count))
        ompSetNumThreads?(count)
        if openblas_get_num_threads() != count { openblas_set_num_threads(count) }
    }

    /// Threads OpenBLAS uses now.
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }
}
