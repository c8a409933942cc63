import EMNN
import EMVolume
import Foundation
import Testing

/// Speed measurements; run with `EMFLOW_BENCHMARK=1` (they take about a minute and print results).
@Suite("Benchmarks", .enabled(if: ProcessInfo.processInfo.environment["EMFLOW_BENCHMARK"] != nil,
                              "set EMFLOW_BENCHMARK=1 to time convolutions and the U-Net"))
struct BenchmarkTests {
    static let threads = Int(ProcessInfo.processInfo.environment["EMFLOW_THREADS"] ?? "") ?? 2

    @Test("convolution passes")
    func convolutions() throws {
        for (c, size) in [(16, Coordinate(repeating: 64)), (32, Coordinate(repeating: 32))] {
            for m in try NNBenchmark.convolution(inputChannels: c, outputChannels: c, kernel: Coordinate(repeating: 3), size: size,
                                                 threads: Self.threads) {
                print(String(format: "%@: %.1f ms (thread CPU %.1f ms), %.1f GFLOP/s", m.name, m.milliseconds,
                             m.threadCPUMilliseconds, m.gflopsPerSecond))
                #expect(m.flops == 2 * Double(c * c * 27 * size.product))
            }
        }
    }

    @Test("U-Net inference and training step (the peer's architecture)")
    func unet() throws {
        let configuration = UNetConfiguration(depth: 3, baseWidth: 16)
        for size in [Coordinate(repeating: 64), Coordinate(repeating: 96)] {
            for m in try NNBenchmark.unet(configuration: configuration, size: size, threads: Self.threads) {
                print(String(format: "%@: %.1f ms (thread CPU %.1f ms), %.1f GFLOP/s, %.3f Mvoxel/s", m.name, m.milliseconds,
                             m.threadCPUMilliseconds, m.gflopsPerSecond, m.megavoxelsPerSecond))
            }
        }
        // The training peer: 330k parameters, 1x3x3 kernels on top, 1x2x2 pooling, batch 2 of 16x128x128.
        let peer = UNetConfiguration(depth: 3, baseWidth: 16, kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3), Coordinate(3, 3, 3)],
                                     poolingFactors: [Coordinate(1, 2, 2), Coordinate(1, 2, 2)])
        print("peer parameters: \(try UNet(configuration: peer).parameterCount)")
        for m in try NNBenchmark.unet(configuration: peer, size: Coordinate(16, 128, 128), batch: 2, threads: Self.threads) {
            print(String(format: "peer %@: %.1f ms (thread CPU %.1f ms), %.1f GFLOP/s", m.name, m.milliseconds,
                         m.threadCPUMilliseconds, m.gflopsPerSecond))
        }
        // 24.7 GFLOP for 1x64^3 is the figure quoted for the same network in PyTorch.
        let flops = try UNet(configuration: configuration).forwardFLOPs(for: TensorShape(channels: 1, spatial: Coordinate(repeating: 64)))
        #expect(abs(flops / 1e9 - 24.7) < 0.3, "forward FLOPs \(flops)")
    }
}
