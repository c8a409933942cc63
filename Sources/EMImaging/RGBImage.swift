import EMVolume

/// An 8-bit colour.
public struct RGB: Hashable, Sendable {
    /// Red component.
    public var red: UInt8
    /// Green component.
    public var green: UInt8
    /// Blue component.
    public var blue: UInt8

    /// Creates a colour from its components.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Pure red.
    public static let red = RGB(255, 0, 0)
    /// Pure green.
    public static let green = RGB(0, 255, 0)
    /// Pure blue.
    public static let blue = RGB(0, 0, 255)
    /// Yellow.
    public static let yellow = RGB(255, 255, 0)
    /// Magenta.
    public static let magenta = RGB(255, 0, 255)
    /// Cyan.
    public static let cyan = RGB(0, 255, 255)
    /// White.
    public static let white = RGB(255, 255, 255)
    /// Black.
    public static let black = RGB(0, 0, 0)
}

/// An 8-bit RGB raster (row-major, interleaved) for overlays: a raw EM section with the
/// outlines or tinted areas of ground truth and predictions drawn over it.
public struct RGBImage: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `width * height * 3` bytes: red, green, blue per pixel.
    public var rgb: [UInt8]

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: RGB = .black) throws {
        guard width > 0, height > 0 else {
            throw ImagingError.invalidSize(width: width, height: height, reason: "both must be positive")
        }
        self.width = width
        self.height = height
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { setPixel(i, fill) }
    }

    /// A gray image from `width * height` intensities.
    public init(gray: [UInt8], width: Int, height: Int) throws {
        guard width > 0, height > 0 else {
            throw ImagingError.invalidSize(width: width, height: height, reason: "both must be positive")
        }
        guard gray.count == width * height else {
            throw ImagingError.bufferSize(what: "gray pixel buffer of a \(width) x \(height) image", count: gray.count, expected: width * height)
        }
        self.width = width
        self.height = height
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        for (i, value) in gray.enumerated() {
            rgb[3 * i] = value
            rgb[3 * i + 1] = value
            rgb[3 * i + 2] = value
        }
    }

    /// The gray image of section `z` (local index) of a volume: x across, y down.
    public init(section z: Int, of volume: Volume<UInt8>) throws {
        guard z >= 0, z < volume.shape.z else {
            throw ImagingError.invalidSize(width: volume.shape.x, height: volume.shape.y,
                                           reason: "section \(z) is outside the volume's 0..<\(volume.shape.z) sections")
        }
        try self.init(gray: volume.sectionVoxels(z), width: volume.shape.x, height: volume.shape.y)
    }

    /// The colour at a pixel.
    public subscript(x x: Int, y y: Int) -> RGB {
        get { let i = 3 * (y * width + x); return RGB(rgb[i], rgb[i + 1], rgb[i + 2]) }
        set { setPixel(y * width + x, newValue) }
    }

    /// Paints `color` on the boundary pixels of `mask` (nonzero = inside): inside pixels with a
    /// 4-neighbour outside the mask or on the image edge.
    ///
    /// - Throws: `ImagingError.bufferSize` when the mask is not `width * height` bytes.
    public mutating func drawOutline(mask: [UInt8], color: RGB) throws {
        try checkMask(mask)
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] != 0 {
                let onEdge = x == 0 || y == 0 || x == width - 1 || y == height - 1
                if onEdge || mask[y * width + x - 1] == 0 || mask[y * width + x + 1] == 0
                    || mask[(y - 1) * width + x] == 0 || mask[(y + 1) * width + x] == 0 {
                    setPixel(y * width + x, color)
                }
            }
        }
    }

    /// Mixes `color` into the pixels inside `mask` with weight `alpha` (0 leaves the image,
    /// 1 paints the colour).
    ///
    /// - Throws: `ImagingError.bufferSize` when the mask is not `width * height` bytes.
    public mutating func blend(mask: [UInt8], color: RGB, alpha: Double) throws {
        try checkMask(mask)
        let a = min(1, max(0, alpha))
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8(((1 - a) * Double(old) + a * Double(new)).rounded())
        }
        for i in 0..<(width * height) where mask[i] != 0 {
            rgb[3 * i] = mix(rgb[3 * i], color.red)
            rgb[3 * i + 1] = mix(rgb[3 * i + 1], color.green)
            rgb[3 * i + 2] = mix(rgb[3 * i + 2], color.blue)
        }
    }

    /// Images placed left to right, top-aligned, `spacing` pixels apart on `background`.
    public static func sideBySide(_ images: [RGBImage], spacing: Int = 8, background: RGB = .white) throws -> RGBImage {
        guard !images.isEmpty else {
            throw ImagingError.invalidSize(width: 0, height: 0, reason: "side-by-side needs at least one image")
        }
        let width = images.reduce(0) { $0 + $1.width } + spacing * (images.count - 1)
        var result = try RGBImage(width: width, height: images.map(\.height).max()!, fill: background)
        var left = 0
        for image in images {
            for y in 0..<image.height {
                let src = 3 * y * image.width, dst = 3 * (y * width + left)
                result.rgb.replaceSubrange(dst..<(dst + 3 * image.width), with: image.rgb[src..<(src + 3 * image.width)])
            }
            left += image.width + spacing
        }
        return result
    }

    /// The image encoded as PNG.
    public func png() throws -> [UInt8] {
        try PNG.encodeRGB(rgb, width: width, height: height)
    }

    private mutating func setPixel(_ index: Int, _ color: RGB) {
        rgb[3 * index] = color.red
        rgb[3 * index + 1] = color.green
        rgb[3 * index + 2] = color.blue
    }

    private func checkMask(_ mask: [UInt8]) throws {
        guard mask.count == width * height else {
            throw ImagingError.bufferSize(what: "mask for a \(width) x \(height) image", count: mask.count, expected: width * height)
        }
    }
}

extension Volume {
    /// The voxels of section `z` (local index, `0 ..< shape.z`), row-major y then x.
    public func sectionVoxels(_ z: Int) -> [Element] {
        precondition(z >= 0 && z < shape.z, "section \(z) outside the volume's 0..<\(shape.z) sections")
        let plane = shape.y * shape.x
        return Array(storage[(z * plane)..<((z + 1) * plane)])
    }
}
