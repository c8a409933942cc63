import CTIFF
import EMStorage
import EMVolume

/// How one TIFF page (image file directory) stores its pixels, validated for what emflow
/// reads: one grayscale channel of uint8, uint16 or float32, in strips or tiles, with a codec
/// this libtiff decodes.
struct TIFFPageLayout: Equatable {
    /// How the pixels are cut into separately compressed pieces.
    enum Tiling: Equatable {
        /// Full-width strips of `rows` rows (the last one may be shorter).
        case strips(rows: Int)
        /// Tiles of `height` x `width` pixels, padded at the image's right and bottom edges.
        case tiles(height: Int, width: Int)
    }

    /// Pixels per row.
    var width: Int
    /// Rows.
    var height: Int
    /// Sample type.
    var dataType: DataType
    /// TIFF Compression tag value.
    var compression: UInt16
    /// Strip or tile organisation.
    var tiling: Tiling
    /// TIFF Predictor tag value (1: none, 2: horizontal, 3: floating point).
    var predictor: UInt16

    /// The sample types emflow reads and writes as TIFF.
    static let supportedTypes: [DataType] = [.uint8, .uint16, .float32]

    /// What a page must match to join a volume: size and sample type, e.g. `64x128 uint16`.
    var summary: String { "\(height)x\(width) (rows x columns) \(dataType)" }

    /// Reads and validates the current directory of `handle`.
    ///
    /// - Parameter name: the file (and page) in messages, e.g. `stack.tif (page 3)`.
    /// - Throws: `StorageError` naming `name` and what was expected for a missing size, more
    ///   than one sample per pixel (RGB, palette...), an unsupported sample type, or a codec
    ///   this libtiff does not decode.
    static func current(_ handle: TIFFHandle, name: String) throws -> TIFFPageLayout {
        guard let width = handle.u32(.imageWidth), let height = handle.u32(.imageLength), width > 0, height > 0 else {
            throw StorageError.malformedMetadata(path: name, key: "ImageWidth/ImageLength", expected: "a positive image size")
        }
        let samples = handle.u16Defaulted(.samplesPerPixel) ?? 1
        let photometric = handle.u16(.photometric) ?? UInt16(PHOTOMETRIC_MINISBLACK)
        guard samples == 1, photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE else {
            throw StorageError.unsupported(
                path: name,
                feature: "\(samples) sample(s) per pixel, photometric interpretation \(photometricName(photometric)); "
                    + "expected single-channel grayscale (SamplesPerPixel 1, MinIsBlack)")
        }
        if let depth = handle.u32(.imageDepth), depth > 1 {
            throw StorageError.unsupported(
                path: name,
                feature: "an SGI volumetric page (ImageDepth \(depth): \(depth) sections in one page, in tiles that are volumes); emflow reads one section per page: resave it as a multi-page stack (tifffile.imwrite(path, data) without volumetric=True)")
        }
        let bits = handle.u16Defaulted(.bitsPerSample) ?? 1
        let format = handle.u16Defaulted(.sampleFormat) ?? UInt16(SAMPLEFORMAT_UINT)
        guard let dataType = dataType(bits: bits, format: format) else {
            throw StorageError.unsupported(
                path: name,
                feature: "sample type \(sampleTypeName(bits: bits, format: format)) (BitsPerSample \(bits), SampleFormat \(format)); "
                    + "supported: \(supportedTypes.map(\.rawValue).joined(separator: ", "))")
        }
        let compression = handle.u16Defaulted(.compression) ?? UInt16(COMPRESSION_NONE)
        guard TIFFIsCODECConfigured(compression) == 1 else {
            throw StorageError.unknownCodec(path: name, name: codecName(compression),
                                            supported: "raw, lzw, deflate, zstd, packbits and the others this libtiff was built with")
        }
        let tiling: Tiling
        if TIFFIsTiled(handle.tiff) != 0 {
            guard let tileWidth = handle.u32(.tileWidth), let tileHeight = handle.u32(.tileLength), tileWidth > 0, tileHeight > 0 else {
                throw StorageError.malformedMetadata(path: name, key: "TileWidth/TileLength", expected: "a positive tile size")
            }
            tiling = .tiles(height: Int(tileHeight), width: Int(tileWidth))
        } else {
            let rows = handle.u32Defaulted(.rowsPerStrip) ?? height
            tiling = .strips(rows: Int(min(max(rows, 1), height)))
        }
        // Only codecs that register the predictor tag answer; the others report it absent.
        let predictor = handle.u16(.predictor) ?? UInt16(PREDICTOR_NONE)
        return TIFFPageLayout(width: Int(width), height: Int(height), dataType: dataType, compression: compression,
                              tiling: tiling, predictor: predictor)
    }

    /// Throws unless this page has the size and sample type of `reference` (another page or
    /// file of the same volume, named `referenceName`).
    func checkMatches(_ reference: TIFFPageLayout, name: String, referenceName: String) throws {
        guard width == reference.width, height == reference.height, dataType == reference.dataType else {
            throw StorageError.malformedMetadata(
                path: name, key: "image size and sample type",
                expected: "\(reference.summary) like \(referenceName), found \(summary)")
        }
    }

    static func dataType(bits: UInt16, format: UInt16) -> DataType? {
        switch (bits, Int32(format)) {
        case (8, SAMPLEFORMAT_UINT), (8, SAMPLEFORMAT_VOID): return .uint8
        case (16, SAMPLEFORMAT_UINT), (16, SAMPLEFORMAT_VOID): return .uint16
        case (32, SAMPLEFORMAT_IEEEFP): return .float32
        default: return nil
        }
    }

    static func sampleTypeName(bits: UInt16, format: UInt16) -> String {
        switch Int32(format) {
        case SAMPLEFORMAT_UINT, SAMPLEFORMAT_VOID: return bits == 1 ? "bilevel (1 bit)" : "uint\(bits)"
        case SAMPLEFORMAT_INT: return "int\(bits)"
        case SAMPLEFORMAT_IEEEFP: return "float\(bits)"
        case SAMPLEFORMAT_COMPLEXINT, SAMPLEFORMAT_COMPLEXIEEEFP: return "complex\(bits)"
        default: return "unknown"
        }
    }

    static func photometricName(_ value: UInt16) -> String {
        switch value {
        case 0: return "MinIsWhite"
        case 1: return "MinIsBlack"
        case 2: return "RGB"
        case 3: return "Palette"
        case 4: return "Mask"
        case 5: return "Separated (CMYK)"
        case 6: return "YCbCr"
        default: return "\(value)"
        }
    }

    /// The name emflow reports for a TIFF Compression value (`VolumeMetadata.codec`).
    static func codecName(_ compression: UInt16) -> String {
        switch Int32(compression) {
        case COMPRESSION_NONE: return "raw"
        case COMPRESSION_LZW: return "lzw"
        case COMPRESSION_ADOBE_DEFLATE, COMPRESSION_DEFLATE: return "deflate"
        case COMPRESSION_ZSTD: return "zstd"
        case COMPRESSION_PACKBITS: return "packbits"
        case COMPRESSION_JPEG, COMPRESSION_OJPEG: return "jpeg"
        case COMPRESSION_LZMA: return "lzma"
        case COMPRESSION_WEBP: return "webp"
        case COMPRESSION_LERC: return "lerc"
        default: return "compression \(compression)"
        }
    }
}
