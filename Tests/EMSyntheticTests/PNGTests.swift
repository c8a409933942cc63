import EMImaging
import EMVolume
import Foundation
import Testing
import TestSupport

/// Decodes a PNG file twice, with a decoder written here on Python's zlib (all five filter
/// types, CRC checks) and with imagecodecs, and writes both pixel buffers.
private let decoderScript = #"""
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'bad signature'
pos, idat, header = 8, b'', None
while pos < len(data):
    n, = struct.unpack('>I', data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) & 0xffffffff == crc, 'bad CRC in ' + kind.decode()
    if kind == b'IHDR':
        header = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
width, height, depth, color, _, _, interlace = header
assert depth == 8 and interlace == 0
bpp = {0: 1, 2: 3, 6: 4}[color]
stride = width * bpp
raw = zlib.decompress(idat)
assert len(raw) == height * (stride + 1)
out, prev = bytearray(), bytearray(stride)
for y in range(height):
    kind = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        else: assert kind == 0, 'filter %d' % kind
    out += line
    prev = line
open(sys.argv[2], 'wb').write(bytes(out))
import imagecodecs
open(sys.argv[3], 'wb').write(imagecodecs.png_decode(data).tobytes())
print(width, height, color)
"""#

/// Pixels with smooth gradients, flat areas and noise, so that rows choose different filters.
private func testPixels(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { i in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        switch (i / 97) % 3 {
        case 0: return UInt8(truncatingIfNeeded: i)
        case 1: return 200
        default: return UInt8(truncatingIfNeeded: state >> 56)
        }
    }
}

@Suite("PNG encoding")
struct PNGTests {
    @Test("grayscale, RGB and RGBA images decode to the same pixels in Python",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)),
          arguments: [(PNG.ColorType.gray, 301, 257), (.rgb, 64, 33), (.rgba, 17, 5), (.gray, 1, 1), (.rgb, 1, 40)])
    func pythonDecodes(colorType: PNG.ColorType, width: Int, height: Int) throws {
        let pixels = testPixels(count: width * height * colorType.channels, seed: UInt64(width * 1000 + height))
        let png: [UInt8]
        switch colorType {
        case .gray: png = try PNG.encodeGray(pixels, width: width, height: height)
        case .rgb: png = try PNG.encodeRGB(pixels, width: width, height: height)
        case .rgba: png = try PNG.encodeRGBA(pixels, width: width, height: height)
        }
        let directory = try TestEnvironment.temporaryDirectory("png")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("image.png")
        try PNG.write(png, to: file)
        let ours = directory.appendingPathComponent("zlib.bin"), theirs = directory.appendingPathComponent("imagecodecs.bin")
        let printed = try runPython(decoderScript, [file.path, ours.path, theirs.path])
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "\(width) \(height) \(colorType.rawValue)")
        #expect([UInt8](try Data(contentsOf: ours)) == pixels)
        #expect([UInt8](try Data(contentsOf: theirs)) == pixels)
    }

    @Test("large images are split into several IDAT chunks and still decode",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)))
    func severalChunks() throws {
        // Noise does not compress, so the stream is longer than one chunk.
        let (width, height) = (1200, 1000)
        var state: UInt64 = 7
        let pixels = (0..<(width * height)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let png = try PNG.encodeGray(pixels, width: width, height: height)
        #expect(png.count > 1 << 20)
        let directory = try TestEnvironment.temporaryDirectory("png")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("noise.png")
        try PNG.write(png, to: file)
        let decoded = try runPython("""
            import sys, imagecodecs
            open(sys.argv[2], 'wb').write(imagecodecs.png_decode(open(sys.argv[1], 'rb').read()).tobytes())
            """, [file.path, directory.appendingPathComponent("out.bin").path])
        #expect(decoded.isEmpty)
        #expect([UInt8](try Data(contentsOf: directory.appendingPathComponent("out.bin"))) == pixels)
    }

    @Test("wrong sizes are rejected with the expected and actual byte counts")
    func badInput() {
        #expect(throws: ImagingError.bufferSize(what: "rgb pixel buffer of a 4 x 2 image", count: 23, expected: 24)) {
            try PNG.encodeRGB([UInt8](repeating: 0, count: 23), width: 4, height: 2)
        }
        #expect(throws: ImagingError.invalidSize(width: 0, height: 3, reason: "both must be positive")) {
            try PNG.encodeGray([], width: 0, height: 3)
        }
        #expect(throws: ImagingError.self) {
            try PNG.write([1, 2, 3], to: URL(fileURLWithPath: "/nonexistent-directory/x.png"))
        }
    }
}

@Suite("RGB overlays")
struct RGBImageTests {
    @Test("the outline of a rectangle is its perimeter, clipped at the image edge")
    func rectangleOutline() throws {
        let (width, height) = (20, 12)
        var image = try RGBImage(gray: [UInt8](repeating: 100, count: width * height), width: width, height: height)
        var mask = [UInt8](repeating: 0, count: width * height)
        for y in 3...8 { for x in 5...14 { mask[y * width + x] = 1 } }       // inside the image
        for y in 0...2 { for x in 17...19 { mask[y * width + x] = 1 } }      // touches two edges
        try image.drawOutline(mask: mask, color: .red)
        for y in 0..<height {
            for x in 0..<width {
                let onRectangle = (5...14).contains(x) && (3...8).contains(y) && (x == 5 || x == 14 || y == 3 || y == 8)
                let onCorner = (17...19).contains(x) && (0...2).contains(y) && (x == 17 || y == 2 || x == 19 || y == 0)
                #expect(image[x: x, y: y] == (onRectangle || onCorner ? .red : RGB(100, 100, 100)), "pixel \(x), \(y)")
            }
        }
    }

    @Test("blending mixes the colour in by alpha, with rounding, inside the mask only")
    func blending() throws {
        var image = try RGBImage(gray: [0, 100, 255, 10], width: 2, height: 2)
        try image.blend(mask: [1, 1, 1, 0], color: RGB(255, 0, 100), alpha: 0.25)
        #expect(image[x: 0, y: 0] == RGB(64, 0, 25))    // 0.75 * 0 + 0.25 * (255, 0, 100) = (63.75, 0, 25)
        #expect(image[x: 1, y: 0] == RGB(139, 75, 100)) // 75 + 63.75, 75, 75 + 25
        #expect(image[x: 0, y: 1] == RGB(255, 191, 216)) // 191.25 + 63.75, 191.25, 191.25 + 25
        #expect(image[x: 1, y: 1] == RGB(10, 10, 10))
        #expect(throws: ImagingError.bufferSize(what: "mask for a 2 x 2 image", count: 3, expected: 4)) {
            try image.blend(mask: [1, 1, 1], color: .red, alpha: 1)
        }
    }

    @Test("a section of a volume becomes a gray image; images sit side by side")
    func sectionsSideBySide() throws {
        let volume = Volume<UInt8>(box: Box(offset: Coordinate(5, 0, 0), shape: Coordinate(2, 3, 4)),
                                   storage: (0..<24).map { UInt8($0 * 10) })
        let second = try RGBImage(section: 1, of: volume)
        #expect(second.width == 4 && second.height == 3)
        #expect(second[x: 1, y: 2] == RGB(210, 210, 210))   // voxel (1, 2, 1) = index 12 + 8 + 1
        let small = try RGBImage(width: 2, height: 1, fill: .blue)
        let row = try RGBImage.sideBySide([second, small], spacing: 3, background: .white)
        #expect(row.width == 4 + 3 + 2 && row.height == 3)
        #expect(row[x: 1, y: 2] == RGB(210, 210, 210))
        #expect(row[x: 5, y: 0] == .white)
        #expect(row[x: 8, y: 0] == .blue)
        #expect(row[x: 8, y: 1] == .white)
        #expect(throws: ImagingError.self) { try RGBImage(section: 2, of: volume) }
        #expect(try row.png().starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }
}
