import EMStorage
import Foundation

/// How the pages of a multi-page TIFF map to channels, z sections and time points, as an
/// OME-TIFF (OME-XML `Pixels` with `SizeC`/`SizeZ`/`SizeT` and `DimensionOrder`) or an
/// ImageJ hyperstack (`channels=`, `slices=`, `frames=`, pages in c, z, t order) describes
/// them in the first page's ImageDescription.
///
/// emflow's volumes are z, y, x: reading such a file as one stack of all its pages would
/// interleave channels (or time points) as if they were sections, so a file with more than
/// one channel or time point is read one channel and time point at a time.
struct TIFFHyperstack: Equatable {
    var channels: Int
    var sections: Int
    var timePoints: Int
    /// The axes C, Z, T from the fastest-varying page index to the slowest.
    var order: [Character]
    /// Where the layout was read from, for messages ("OME-TIFF", "ImageJ hyperstack").
    var source: String

    /// True when the file holds more than one channel or time point.
    var hasExtraAxes: Bool { channels > 1 || timePoints > 1 }

    /// The page holding section `z` of channel `c` at time point `t`.
    func page(c: Int, z: Int, t: Int) -> Int {
        var index = 0, stride = 1
        for axis in order {
            let (position, size) = axis == "C" ? (c, channels) : axis == "Z" ? (z, sections) : (t, timePoints)
            index += position * stride
            stride *= size
        }
        return index
    }

    /// The layout a first page's description states, nil when it states none.
    ///
    /// - Throws: `StorageError.unsupported` naming `path` when the description cannot be
    ///   followed: several OME images (series), an unknown dimension order, or a page count
    ///   that does not match the sizes (planes spread over several files, or a damaged file).
    static func read(description: String?, pageCount: Int, path: String) throws -> TIFFHyperstack? {
        guard let description else { return nil }
        let layout: TIFFHyperstack?
        if description.contains("<OME"), description.contains("<Pixels") {
            layout = try omeLayout(description, path: path)
        } else if let properties = TIFFCalibration.imageJProperties(description) {
            func size(_ key: String) -> Int { properties[key].flatMap(Int.init).map { max($0, 1) } ?? 1 }
            let (c, t) = (size("channels"), size("frames"))
            layout = c > 1 || t > 1 ? TIFFHyperstack(channels: c, sections: size("slices"), timePoints: t, order: ["C", "Z", "T"], source: "ImageJ hyperstack") : nil
        } else {
            layout = nil
        }
        guard let layout else { return nil }
        let planes = layout.channels * layout.sections * layout.timePoints
        guard planes == pageCount else {
            throw StorageError.unsupported(path: path, feature: "a \(layout.source) of \(layout.channels) channel(s) x \(layout.sections) section(s) x \(layout.timePoints) time point(s) = \(planes) planes stored in \(pageCount) pages (planes in other files, or a damaged file); emflow reads files that hold every plane")
        }
        return layout
    }

    /// The layout of the single image an OME-XML description holds.
    private static func omeLayout(_ xml: String, path: String) throws -> TIFFHyperstack? {
        let images = xml.components(separatedBy: "<Image ").count - 1
        guard images <= 1 else {
            throw StorageError.unsupported(path: path, feature: "an OME-TIFF with \(images) images (series); emflow reads files with one image: save each series to its own file")
        }
        guard let start = xml.range(of: "<Pixels"), let end = xml[start.upperBound...].firstIndex(of: ">") else { return nil }
        let element = String(xml[start.upperBound..<end])
        func attribute(_ name: String) -> String? {
            guard let range = element.range(of: " \(name)=") ?? element.range(of: "\n\(name)=") ?? element.range(of: "\t\(name)=") else { return nil }
            let rest = element[range.upperBound...]
            guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
            return rest.dropFirst().prefix { $0 != quote }.description
        }
        func size(_ name: String) -> Int { attribute(name).flatMap(Int.init).map { max($0, 1) } ?? 1 }
        let order = attribute("DimensionOrder") ?? "XYZCT"
        let axes = Array(order.uppercased())
        guard axes.count == 5, axes.prefix(2) == ["X", "Y"], Set(axes.dropFirst(2)) == ["C", "Z", "T"] else {
            throw StorageError.unsupported(path: path, feature: "OME DimensionOrder '\(order)'; expected XY followed by Z, C and T in some order (XYZCT, XYCZT, ...)")
        }
        let layout = TIFFHyperstack(channels: size("SizeC"), sections: size("SizeZ"), timePoints: size("SizeT"), order: Array(axes.dropFirst(2)), source: "OME-TIFF")
        return layout.hasExtraAxes ? layout : nil
    }

    /// The pages of one channel and time point in z order.
    ///
    /// - Throws: `StorageError.badAddress` naming `address` when the selection leaves an axis
    ///   unchosen or chooses past its end.
    func pages(for selection: AxisSelection, address: String) throws -> [Int] {
        func choose(_ index: Int?, count: Int, axis: String, letter: String) throws -> Int {
            guard let index else {
                guard count == 1 else {
                    let examples = (0..<min(count, 3)).map { "\(address)[\(letter)=\($0)]" }.joined(separator: ", ")
                    throw StorageError.badAddress(address: address, expected: "this \(source) has \(count) \(axis)s (\(channels) channel(s) x \(sections) section(s) x \(timePoints) time point(s)), which emflow does not merge into z: choose one, e.g. \(examples)")
                }
                return 0
            }
            guard index < count else {
                throw StorageError.badAddress(address: address, expected: "a \(axis) index below \(count) (this \(source) has \(count) \(axis)s), got \(letter)=\(index)")
            }
            return index
        }
        let c = try choose(selection.channel, count: channels, axis: "channel", letter: "c")
        let t = try choose(selection.timePoint, count: timePoints, axis: "time point", letter: "t")
        return (0..<sections).map { page(c: c, z: $0, t: t) }
    }
}
