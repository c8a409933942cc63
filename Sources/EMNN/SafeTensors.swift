import Foundation

/// One named float32 array of a safetensors file.
public struct NamedTensor: Equatable, Sendable {
    /// Key in the file.
    public var name: String
    /// Dimensions (row-major, last fastest).
    public var shape: [Int]
    /// Values, `shape.product` of them.
    public var values: [Float]

    /// Creates an entry.
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Reads and writes the safetensors format (as used by PyTorch / Hugging Face): an 8-byte
/// little-endian header length, a JSON header mapping names to dtype, shape and byte offsets
/// (plus optional string `__metadata__`), then the raw little-endian data. Only F32 is written;
/// F32 is read.
public enum SafeTensors {
    /// Writes `tensors` and `metadata` to `url` (atomically: a temporary file, then a rename).
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            guard tensor.shape.reduce(1, *) == tensor.values.count else {
                throw NNError.checkpoint(path: url.path, message: "tensor '\(tensor.name)' has \(tensor.values.count) values for shape \(tensor.shape)")
            }
            guard header[tensor.name] == nil, tensor.name != "__metadata__" else {
                throw NNError.checkpoint(path: url.path, message: "duplicate or reserved tensor name '\(tensor.name)'")
            }
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.values.count]]
            offset += 4 * tensor.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned.
        json.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors {
            tensor.values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw NNError.checkpoint(path: url.path, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads every tensor (in file order of their offsets) and the metadata of a safetensors file.
    public static func read(from url: URL) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        func fail(_ message: String) -> NNError { .checkpoint(path: url.path, message: message) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw fail("cannot read: \(error.localizedDescription)") }
        guard data.count >= 8 else { throw fail("file has \(data.count) bytes; a safetensors file starts with an 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) exceeds the file size \(data.count)")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = strings
        }
        var tensors: [(Int, NamedTensor)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
            }
            guard dtype == "F32" else { throw fail("tensor '\(name)' has dtype \(dtype); only F32 is supported") }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] - offsets[0] == 4 * count, dataStart + offsets[1] <= data.count else {
                throw fail("tensor '\(name)' of shape \(shape) has data offsets \(offsets) that do not fit its size or the file")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in
                _ = data.copyBytes(to: destination, from: (dataStart + offsets[0])..<(dataStart + offsets[1]))
            }
            if UInt32(littleEndian: 1) != 1 { values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) } }
            tensors.append((offsets[0], NamedTensor(name: name, shape: shape, values: values)))
        }
        return (tensors.sorted { $0.0 < $1.0 }.map(\.1), metadata)
    }
}
