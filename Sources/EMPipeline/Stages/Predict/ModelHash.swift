import EMNN
import EMStorage
import Foundation

/// The content hash of a U-Net checkpoint: its configuration and weights, byte for byte.
enum ModelHash {
    /// A fingerprint of `config.json` and `model.safetensors` in `directory`, read in chunks
    /// (a streaming FNV-1a over each file's bytes).
    ///
    /// - Throws: `PipelineError.execution` naming a file that cannot be read.
    static func of(checkpoint directory: URL) throws -> String {
        var parts: [String] = []
        for name in [CheckpointFile.configuration, CheckpointFile.model] {
            let url = directory.appendingPathComponent(name)
            guard let handle = try? FileHandle(forReadingFrom: url) else {
                throw PipelineError.execution("cannot read the model file '\(url.path)'")
            }
            defer { try? handle.close() }
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            var count = 0
            while true {
                let chunk: Data?
                do { chunk = try handle.read(upToCount: 1 << 22) } catch {
                    throw PipelineError.execution("cannot read the model file '\(url.path)': \(error.localizedDescription)")
                }
                guard let chunk, !chunk.isEmpty else { break }
                count += chunk.count
                chunk.withUnsafeBytes { bytes in
                    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
                }
            }
            parts.append("\(name):\(count):\(String(hash, radix: 16))")
        }
        return Fingerprint.of(parts.joined(separator: "|"))
    }
}
