import Foundation
import EMVolume

/// Exact Euclidean distance transform with anisotropic voxels, in nanometres.
///
/// Felzenszwalb and Huttenlocher's separable algorithm ("Distance Transforms of Sampled
/// Functions", 2012): the squared distance is the lower envelope of parabolas, computed by one
/// linear-time 1D pass per axis, with the voxel size of that axis as the sampling step. The
/// result equals `scipy.ndimage.distance_transform_edt(background, sampling=voxelSize)`
/// wherever some foreground exists; with no foreground at all every distance is infinite.
public struct DistanceMap: Sendable {
    /// Extent of the map (z, y, x).
    public let shape: Coordinate
    /// Squared distances in nm^2, z, y, x order (0 on foreground, +infinity when there is no
    /// foreground at all).
    public private(set) var squared: [Double]

    /// The distance of every voxel to the nearest voxel where `foreground` (z, y, x order) is true.
    public init(foreground: [Bool], shape: Coordinate, voxelSize: VoxelSize) {
        precondition(foreground.count == shape.product, "foreground holds \(foreground.count) voxels, shape \(shape) needs \(shape.product)")
        self.shape = shape
        squared = foreground.map { $0 ? 0 : .infinity }
        let (nz, ny, nx) = (shape.z, shape.y, shape.x)
        guard nz > 0, ny > 0, nx > 0 else { return }
        squared.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            // x lines (stride 1), y lines (stride nx), z lines (stride ny * nx).
            Self.transformLines(base, count: nz * ny, length: nx, stride: 1, step: voxelSize.x) { ($0) * nx }
            Self.transformLines(base, count: nz * nx, length: ny, stride: nx, step: voxelSize.y) { ($0 / nx) * ny * nx + $0 % nx }
            Self.transformLines(base, count: ny * nx, length: nz, stride: ny * nx, step: voxelSize.z) { $0 }
        }
    }

    /// Distance (nm) at linear index `i`.
    public func distance(at i: Int) -> Double { squared[i].squareRoot() }

    /// Runs the 1D transform over `count` lines; `start(line)` is a line's first index.
    private static func transformLines(_ data: UnsafeMutablePointer<Double>, count: Int, length: Int, stride: Int,
                                       step: Double, start: (Int) -> Int) {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 64))
        let address = UInt(bitPattern: data) // distinct lines never overlap, so workers may share the buffer
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let data = UnsafeMutablePointer<Double>(bitPattern: address)!
            var line = [Double](repeating: 0, count: length)
            var output = line
            var vertices = [Int](repeating: 0, count: length)
            var bounds = [Double](repeating: 0, count: length + 1)
            for l in Swift.stride(from: worker, to: count, by: workers) {
                let first = start(l)
                for i in 0..<length { line[i] = data[first + i * stride] }
                transform1D(line, into: &output, step: step, vertices: &vertices, bounds: &bounds)
                for i in 0..<length { data[first + i * stride] = output[i] }
            }
        }
    }

    /// `output[p] = min_q (step (p - q))^2 + f[q]` over the finite `f[q]`.
    static func transform1D(_ f: [Double], into output: inout [Double], step: Double, vertices v: inout [Int], bounds z: inout [Double]) {
        let n = f.count
        var k = -1
        for q in 0..<n where f[q].isFinite {
            let xq = Double(q) * step
            if k < 0 {
                k = 0
                v[0] = q
                z[0] = -.infinity
                z[1] = .infinity
                continue
            }
            var s = 0.0
            while true {
                let r = v[k]
                let xr = Double(r) * step
                s = ((f[q] + xq * xq) - (f[r] + xr * xr)) / (2 * (xq - xr))
                if s <= z[k] { k -= 1 } else { break }
            }
            k += 1
            v[k] = q
            z[k] = s
            z[k + 1] = .infinity
        }
        guard k >= 0 else {
            for p in 0..<n { output[p] = .infinity }
            return
        }
        k = 0
        for p in 0..<n {
            let x = Double(p) * step
            while z[k + 1] < x { k += 1 }
            let d = x - Double(v[k]) * step
            output[p] = d * d + f[v[k]]
        }
    }
}
