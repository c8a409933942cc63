import CZlib
import Foundation

/// A PNG encoder for 8-bit grayscale, RGB and RGBA images (no interlacing).
///
/// Each scanline gets the filter (None, Sub or Up) with the smallest sum of absolute filtered
/// bytes, the usual heuristic; the filtered lines are compressed with zlib.
public enum PNG {
    /// Colour layouts the encoder writes, with their PNG colour-type codes.
    public enum ColorType: UInt8, Sendable {
        /// One byte per pixel.
        case gray = 0
        /// Three bytes per pixel: red, green, blue.
        case rgb = 2
        /// Four bytes per pixel: red, green, blue, alpha.
        case rgba = 6

        /// Bytes per pixel.
        public var channels: Int {
            switch self {
            case .gray: return 1
            case .rgb: return 3
            case .rgba: return 4
            }
        }
    }

    /// Encodes 8-bit grayscale pixels (row-major, `width * height` bytes) as a PNG file image.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, colorType: .gray)
    }

    /// Encodes interleaved 8-bit RGB pixels (`width * height * 3` bytes) as a PNG file image.
    public static func encodeRGB(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, colorType: .rgb)
    }

    /// Encodes interleaved 8-bit RGBA pixels (`width * height * 4` bytes) as a PNG file image.
    public static func encodeRGBA(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, colorType: .rgba)
    }

    /// Encodes row-major interleaved 8-bit pixels of the given colour type.
    ///
    /// - Throws: `ImagingError.invalidSize` for a non-positive or oversized image,
    ///   `ImagingError.bufferSize` when `pixels` does not hold exactly one image,
    ///   `ImagingError.compression` when zlib fails.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, colorType: ColorType) throws -> [UInt8] {
        guard width > 0, height > 0 else {
            throw ImagingError.invalidSize(width: width, height: height, reason: "both must be positive")
        }
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImagingError.invalidSize(width: width, height: height, reason: "PNG allows at most 2^31-1 per side")
        }
        let rowBytes = width * colorType.channels
        guard pixels.count == rowBytes * height else {
            throw ImagingError.bufferSize(what: "\(colorType) pixel buffer of a \(width) x \(height) image",
                                          count: pixels.count, expected: rowBytes * height)
        }
        let filtered = filterScanlines(pixels, rowBytes: rowBytes, height: height, bytesPerPixel: colorType.channels)
        var header = [UInt8]()
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, colorType.rawValue, 0, 0, 0]  // bit depth, colour type, deflate, adaptive filtering, no interlace

        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &file)
        let compressed = try deflate(filtered)
        for start in stride(from: 0, to: compressed.count, by: idatChunkSize) {
            appendChunk("IDAT", Array(compressed[start..<min(start + idatChunkSize, compressed.count)]), to: &file)
        }
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Writes an encoded image to `url` atomically (a temporary file renamed into place).
    ///
    /// - Throws: `ImagingError.unwritable` naming the path.
    public static func write(_ png: [UInt8], to url: URL) throws {
        do { try Data(png).write(to: url, options: .atomic) }
        catch { throw ImagingError.unwritable(path: url.path, reason: error.localizedDescription) }
    }

    /// Largest IDAT chunk written (PNG chunks hold at most 2^31-1 bytes).
    static let idatChunkSize = 1 << 20

    /// Prefixes each row with its best filter type and applies that filter.
    static func filterScanlines(_ pixels: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        var sub = [UInt8](repeating: 0, count: rowBytes)
        var up = [UInt8](repeating: 0, count: rowBytes)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = src.baseAddress! + y * rowBytes
                    var costNone = 0, costSub = 0, costUp = 0
                    for i in 0..<rowBytes {
                        let left: UInt8 = i >= bpp ? row[i - bpp] : 0
                        let above: UInt8 = y > 0 ? row[i - rowBytes] : 0
                        sub[i] = row[i] &- left
                        up[i] = row[i] &- above
                        costNone += signedMagnitude(row[i])
                        costSub += signedMagnitude(sub[i])
                        costUp += signedMagnitude(up[i])
                    }
                    let line = dst.baseAddress! + y * (rowBytes + 1)
                    if costNone <= costSub && costNone <= costUp {
                        line[0] = 0
                        (line + 1).update(from: row, count: rowBytes)
                    } else if costSub <= costUp {
                        line[0] = 1
                        sub.withUnsafeBufferPointer { (line + 1).update(from: $0.baseAddress!, count: rowBytes) }
                    } else {
                        line[0] = 2
                        up.withUnsafeBufferPointer { (line + 1).update(from: $0.baseAddress!, count: rowBytes) }
                    }
                }
            }
        }
        return out
    }

    /// A filtered byte read as a signed value, by magnitude (the filter-choice heuristic).
    private static func signedMagnitude(_ byte: UInt8) -> Int {
        let value = Int(Int8(bitPattern: byte))
        return value < 0 ? -value : value
    }

    /// zlib-compresses `bytes` (default level).
    private static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let code = out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress!, &capacity, src.baseAddress!, uLong(src.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard code == Z_OK else { throw ImagingError.compression(code: code) }
        out.removeLast(out.count - Int(capacity))
        return out
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Appends a chunk: length, type, data and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &file)
        let typeAndData = Array(type.utf8) + data
        file += typeAndData
        let checksum = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        appendBigEndian(UInt32(checksum), to: &file)
    }
}
