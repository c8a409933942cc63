import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thread counts of the compute libraries: oneDNN (OpenMP) and the engine's own workers.
///
/// OpenBLAS runs single-threaded inside the engine's Dispatch workers: its own pthread pool
/// spin-waits long after each call and would compete with oneDNN's OpenMP threads.
public enum ThreadSettings {
    private typealias SetThreads = @convention(c) (Int32) -> Void

    /// OpenMP's `omp_set_num_threads`, found at run time in the OpenMP runtime oneDNN loads.
    private static let ompSetNumThreads: SetThreads? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: SetThreads.self)
    }()

    /// Uses `count` OpenMP threads for oneDNN calls made on the calling thread.
    public static func apply(_ count: Int) {
        ompSetNumThreads?(Int32(max(1, count)))
    }

    /// Makes OpenBLAS compute on the calling thread only (the engine parallelises around it).
    static func useSingleThreadedBLAS() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// Cores available to this process: the default worker count.
    public static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }
}
