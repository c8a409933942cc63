@testable import EMPipeline
import EMVolume
import Foundation
import Testing
import TestSupport

/// The smooth stage run block by block over a real Zarr store, against a direct (non-separable)
/// Gaussian sum over the whole volume and against scipy.ndimage.gaussian_filter.
@Suite("Smooth stage")
struct SmoothTests {
    static let shape = Coordinate(9, 37, 41)

    /// The raw volume: uint8 noise with a gradient, so that mirrored faces matter.
    static func raw() -> Volume<UInt8> {
        var generator = SeededGenerator(seed: 11)
        var volume = Volume<UInt8>(shape: shape)
        for z in 0..<shape.z { for y in 0..<shape.y { for x in 0..<shape.x {
            volume[z, y, x] = UInt8(min(255, 4 * x + Int.random(in: 0...80, using: &generator)))
        } } }
        return volume
    }

    /// Runs a read + smooth + write pipeline with small blocks; returns the written volume.
    func smoothed(sigma: Double, sigmaZ: Double, in directory: URL) throws -> Volume<Float> {
        let input = directory.path + "/in.zarr/raw", output = directory.path + "/out.zarr/smooth"
        try writeVolume(Self.raw(), to: input, chunks: Coordinate(4, 16, 16))
        let file = try writePipeline("""
        name: smooth-test
        execution:
          block_shape: [4, 12, 16]
          workers: 2
        stages:
          blurred:
            kind: smooth
            input: \(input)
            sigma: \(sigma)
            sigma_z: \(sigmaZ)
          save:
            kind: write
            input: blurred
            output: \(output)
        """, in: directory)
        _ = try PipelineRunner(pipeline: try PipelineLoader.load(file: file), options: RunOptions(version: "test")).run()
        return try readVolume(output, as: Float.self)
    }

    /// Every output voxel as one triple sum of weights times mirrored input voxels.
    static func directGaussian(_ volume: Volume<UInt8>, sigma: (z: Double, y: Double, x: Double)) -> Volume<Float> {
        func weights(_ s: Double) -> [Double] {
            guard s > 0 else { return [1] }
            let r = Int(4 * s + 0.5)
            let w = (-r...r).map { exp(-Double($0 * $0) / (2 * s * s)) }
            let total = w.reduce(0, +)
            return w.map { $0 / total }
        }
        func mirror(_ p: Int, _ n: Int) -> Int {
            var p = p
            while p < 0 || p >= n { p = p < 0 ? -p - 1 : 2 * n - p - 1 }
            return p
        }
        let (wz, wy, wx) = (weights(sigma.z), weights(sigma.y), weights(sigma.x))
        let (rz, ry, rx) = (wz.count / 2, wy.count / 2, wx.count / 2)
        let s = volume.shape
        var result = Volume<Float>(shape: s)
        for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
            var sum = 0.0
            for dz in -rz...rz { for dy in -ry...ry { for dx in -rx...rx {
                sum += wz[dz + rz] * wy[dy + ry] * wx[dx + rx]
                    * Double(volume[mirror(z + dz, s.z), mirror(y + dy, s.y), mirror(x + dx, s.x)])
            } } }
            result[z, y, x] = Float(sum)
        } } }
        return result
    }

    @Test("blocks with halos equal one direct Gaussian sum over the whole volume, faces mirrored",
          arguments: [(1.5, 1.0), (2.0, 0.0), (0.0, 2.5)])
    func matchesDirectSum(sigma: Double, sigmaZ: Double) throws {
        let directory = try TestEnvironment.temporaryDirectory("smooth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try smoothed(sigma: sigma, sigmaZ: sigmaZ, in: directory)
        let expected = Self.directGaussian(Self.raw(), sigma: (sigmaZ, sigma, sigma))
        let worst = zip(result.storage, expected.storage).map { abs($0 - $1) }.max()!
        #expect(result.shape == Self.shape)
        #expect(worst < 1e-3, "largest difference \(worst) (values 0-255)")
    }

    @Test("equals scipy.ndimage.gaussian_filter (mode reflect)",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func matchesScipy() throws {
        let directory = try TestEnvironment.temporaryDirectory("smooth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try smoothed(sigma: 2.5, sigmaZ: 1.2, in: directory)
        let output = try runPython("""
        import sys, numpy as np, zarr
        from scipy.ndimage import gaussian_filter
        raw = zarr.open_array(sys.argv[1] + '/in.zarr/raw', mode='r')[...].astype(np.float64)
        ours = zarr.open_array(sys.argv[1] + '/out.zarr/smooth', mode='r')[...]
        reference = gaussian_filter(raw, sigma=(1.2, 2.5, 2.5), mode='reflect')
        print(float(np.abs(ours - reference).max()))
        """, [directory.path])
        let worst = try #require(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(result.shape == Self.shape)
        #expect(worst < 1e-3, "largest difference from scipy \(worst) (values 0-255)")
    }

    @Test("sigma and sigma_z both 0 are refused on their line")
    func nothingToBlur() throws {
        let directory = try TestEnvironment.temporaryDirectory("smooth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.path + "/in.zarr/raw"
        try writeVolume(Self.raw(), to: input, chunks: Coordinate(4, 16, 16))
        let file = try writePipeline("""
        name: smooth-zero
        stages:
          blurred:
            kind: smooth
            input: \(input)
            sigma: 0
          save:
            kind: write
            input: blurred
            output: \(directory.path)/out.zarr/smooth
        """, in: directory)
        do {
            _ = try PipelineLoader.load(file: file)
            Issue.record("a smooth stage with both sigmas 0 was accepted")
        } catch let PipelineError.invalid(diagnostics) {
            let message = diagnostics.map(\.description).joined(separator: "\n")
            #expect(message.contains("nothing to blur"), "\(message)")
            #expect(message.contains("pipeline.yaml:6"), "\(message)")
        }
    }
}
