import CTIFF
import EMVolume
import Foundation

/// Voxel size and origin as TIFF stores them: XResolution/YResolution (pixels per
/// ResolutionUnit) for the plane, and ImageJ's ImageDescription (`unit=`, `spacing=` for z,
/// `xorigin=`... in pixels) for what the tags cannot say.
///
/// Reading follows ImageJ: a physical ResolutionUnit (inch, centimetre, and tifffile's
/// millimetre and micrometre) wins for x and y; with ResolutionUnit none or absent, the
/// resolution counts pixels per ImageJ `unit`. `spacing` is in the ImageJ unit (nm when the
/// description names none). Without any of these an axis gets 1 nm (`VoxelSize.unit`).
///
/// Writing follows ImageJ and tifffile's ImageJ mode: resolution in pixels per nm with
/// ResolutionUnit none, and a description with `unit=nm` and `spacing=`.
struct TIFFCalibration: Equatable {
    var voxelSize: VoxelSize
    var origin: WorldPoint

    /// Nanometres per ImageJ unit name.
    static func nanometres(perUnit name: String) -> Double? {
        switch name.trimmingCharacters(in: .whitespaces).lowercased() {
        case "nm", "nanometer", "nanometers", "nanometre", "nanometres": return 1
        case "um", "µm", "\u{03BC}m", "micron", "microns", "micrometer", "micrometers", "micrometre", "micrometres", "\\u00b5m": return 1e3
        case "mm", "millimeter", "millimeters", "millimetre", "millimetres": return 1e6
        case "cm", "centimeter", "centimeters", "centimetre", "centimetres": return 1e7
        case "m", "meter", "meters", "metre", "metres": return 1e9
        case "inch", "inches", "in": return 2.54e7
        default: return nil
        }
    }

    /// Nanometres per TIFF ResolutionUnit value (2 inch, 3 cm; 4 mm and 5 µm as tifffile writes).
    static func nanometres(perResolutionUnit unit: UInt16) -> Double? {
        switch unit {
        case 2: return 2.54e7
        case 3: return 1e7
        case 4: return 1e6
        case 5: return 1e3
        default: return nil
        }
    }

    /// The `key=value` lines of an ImageJ description (one starting with `ImageJ=`), else nil.
    static func imageJProperties(_ description: String?) -> [String: String]? {
        guard let description, description.hasPrefix("ImageJ=") else { return nil }
        var properties: [String: String] = [:]
        for line in description.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return properties
    }

    /// Reads the calibration of the current page of `handle`.
    static func read(_ handle: TIFFHandle) -> TIFFCalibration {
        let imageJ = imageJProperties(handle.string(.imageDescription)) ?? [:]
        let imageJUnit = imageJ["unit"].flatMap(nanometres(perUnit:))
        let tagUnit = handle.u16(.resolutionUnit).flatMap(nanometres(perResolutionUnit:))
        let planeUnit = tagUnit ?? imageJUnit
        func planeSize(_ tag: TIFFTag) -> Double {
            guard let unit = planeUnit, let pixelsPerUnit = handle.float(tag), pixelsPerUnit > 0, pixelsPerUnit.isFinite else { return 1 }
            return significant(unit / Double(pixelsPerUnit))
        }
        let x = planeSize(.xResolution), y = planeSize(.yResolution)
        let z = imageJ["spacing"].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? significant($0 * (imageJUnit ?? 1)) : nil } ?? 1
        let size = VoxelSize(z, y, x)
        // ImageJ's origin is the pixel position of world zero: world(voxel 0) = -origin * size.
        func origin(_ key: String, _ extent: Double) -> Double {
            imageJ[key].flatMap(Double.init).map { $0 == 0 ? 0 : significant(-$0 * extent) } ?? 0
        }
        return TIFFCalibration(voxelSize: size, origin: WorldPoint(origin("zorigin", z), origin("yorigin", y), origin("xorigin", x)))
    }

    /// libtiff keeps resolutions as 32-bit floats: round to 6 significant digits so that a
    /// written 3 nm reads back as 3, not 2.99999994.
    static func significant(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        let scale = pow(10, 5 - floor(log10(abs(value))))
        return (value * scale).rounded() / scale
    }

    /// Pixels per nm for the XResolution and YResolution tags (with ResolutionUnit none).
    var resolution: (x: Double, y: Double) { (1 / voxelSize.x, 1 / voxelSize.y) }

    /// The ImageJ description for a stack of `images` pages with this calibration.
    func imageJDescription(images: Int) -> String {
        var lines = ["ImageJ=1.11a"]
        if images > 1 { lines += ["images=\(images)", "slices=\(images)"] }
        lines += ["unit=nm", "spacing=\(voxelSize.z)"]
        let pixels = [("xorigin", origin.x, voxelSize.x), ("yorigin", origin.y, voxelSize.y), ("zorigin", origin.z, voxelSize.z)]
        for (key, world, extent) in pixels where world != 0 { lines.append("\(key)=\(-world / extent)") }
        lines.append("loop=false")
        return lines.joined(separator: "\n") + "\n"
    }
}
