import Foundation
import Testing
import EMStorage
import EMCodecs
import TestSupport

/// Deterministic bytes: runs of slowly varying values (so compressors find matches) between runs of noise.
private func sampleBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { i in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (i / 64) % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 56) : UInt8(truncatingIfNeeded: i / 256)
    }
}

/// Every codec the store writes, with non-default settings too.
private let allCodecs: [Codec] = [
    .raw, .zstd(level: 1), .zstd(level: 19), .gzip(level: 1), .gzip(level: 9), .zlib(level: 5),
    .blosc(compressor: .lz4, level: 5, shuffle: .byte), .blosc(compressor: .zstd, level: 3, shuffle: .bit),
    .blosc(compressor: .blosclz, level: 9, shuffle: .none), .blosc(compressor: .lz4hc, level: 4, shuffle: .byte),
    .blosc(compressor: .zlib, level: 1, shuffle: .bit),
]

@Suite("Chunk codecs")
struct CodecTests {
    @Test(arguments: allCodecs)
    func roundTripsEveryElementSize(codec: Codec) throws {
        for elementSize in [1, 2, 4, 8] {
            for count in [0, elementSize, 4096, 100_000] {
                let input = sampleBytes(count: count, seed: UInt64(count + elementSize))
                let encoded = try input.withUnsafeBytes { try codec.encode($0, elementSize: elementSize) }
                let decoded = try encoded.withUnsafeBytes { try codec.decode($0, expectedSize: count, path: "chunk/0.0.0") }
                #expect(decoded == input, "\(codec), element size \(elementSize), \(count) bytes")
                if case .raw = codec {} else if count == 100_000 {
                    #expect(encoded.count < count, "\(codec) did not compress structured data")
                }
            }
        }
    }

    @Test func writesStandardContainers() throws {
        let input = sampleBytes(count: 10_000, seed: 3)
        func encoded(_ codec: Codec, _ elementSize: Int = 1) throws -> [UInt8] {
            try input.withUnsafeBytes { try codec.encode($0, elementSize: elementSize) }
        }
        #expect(try encoded(.zstd(level: 3)).prefix(4) == [0x28, 0xB5, 0x2F, 0xFD])  // zstd frame magic
        #expect(try encoded(.gzip(level: 3)).prefix(3) == [0x1F, 0x8B, 0x08])  // gzip, deflate
        let zlib = try encoded(.zlib(level: 3))
        #expect(zlib[0] & 0x0F == 8 && (Int(zlib[0]) * 256 + Int(zlib[1])) % 31 == 0)  // RFC 1950 header check
        let blosc = try encoded(.blosc(compressor: .lz4, level: 5, shuffle: .byte), 4)
        #expect(blosc[0] == 2 && blosc[3] == 4)  // Blosc format version 2, typesize 4
        #expect(blosc.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) } == 10_000)  // nbytes
    }

    @Test func gzipOutputDecodesWithTheGzipTool() throws {
        let input = sampleBytes(count: 50_000, seed: 9)
        let encoded = try input.withUnsafeBytes { try Codec.gzip(level: 6).encode($0, elementSize: 1) }
        let dir = try TestEnvironment.temporaryDirectory("gzip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("chunk.gz")
        try Data(encoded).write(to: file)
        let result = try runProcess("/bin/sh", ["-c", "gzip -dc '\(file.path)' | od -An -v -tu1 | tr -s ' \\n' '\\n' | grep -v '^$'"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").compactMap { UInt8($0) } == input)
    }

    @Test(arguments: allCodecs)
    func rejectsWrongSizesAndCorruptInput(codec: Codec) throws {
        let input = sampleBytes(count: 20_000, seed: 5)
        let encoded = try input.withUnsafeBytes { try codec.encode($0, elementSize: 2) }
        let path = "volume.zarr/raw/1.2.3"
        func expectCorrupt(_ bytes: [UInt8], expectedSize: Int, _ comment: String) {
            do {
                _ = try bytes.withUnsafeBytes { try codec.decode($0, expectedSize: expectedSize, path: path) }
                Issue.record("\(codec): \(comment) decoded without error")
            } catch let error as StorageError {
                guard case .corruptChunk = error else { Issue.record("\(codec): \(comment): \(error)"); return }
                #expect(error.description.contains(path))
            } catch {
                Issue.record("\(codec): \(comment): unexpected \(error)")
            }
        }
        expectCorrupt(encoded, expectedSize: input.count + 2, "a too large expected size")
        expectCorrupt(encoded, expectedSize: input.count - 2, "a too small expected size")
        expectCorrupt(Array(encoded.prefix(encoded.count / 2)), expectedSize: input.count, "a truncated chunk")
        expectCorrupt(Array(encoded.prefix(3)), expectedSize: input.count, "a 3-byte chunk")
        expectCorrupt([], expectedSize: input.count, "an empty chunk")
        if case .raw = codec { return }
        expectCorrupt(sampleBytes(count: encoded.count, seed: 77).map { $0 ^ 0x5A }, expectedSize: input.count, "garbage")
        // Random byte flips must either throw or decode to the right size: never crash.
        var state: UInt64 = 12345
        for _ in 0..<200 {
            var damaged = encoded
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                damaged[Int(state >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: state >> 20) | 1
            }
            if let decoded = try? damaged.withUnsafeBytes({ try codec.decode($0, expectedSize: input.count, path: path) }) {
                #expect(decoded.count == input.count)
            }
        }
    }

    @Test func crc32cMatchesTheStandardCheckValueAndABitwiseReference() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001] {
            let bytes = sampleBytes(count: count, seed: UInt64(count) * 31 + 1)
            #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == bitwise(bytes), "\(count) bytes")
        }
    }

    @Test func rejectsLevelsOutsideTheLibraryRange() {
        let input = [UInt8](repeating: 1, count: 100)
        for codec in [Codec.gzip(level: 12), .zlib(level: -3), .blosc(compressor: .lz4, level: 10, shuffle: .byte), .zstd(level: 99)] {
            #expect(throws: StorageError.self, "\(codec)") { try input.withUnsafeBytes { try codec.encode($0, elementSize: 1) } }
        }
    }
}
