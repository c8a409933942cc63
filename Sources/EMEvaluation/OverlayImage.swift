import Foundation
import EMImaging

/// Composes overlay images: the gray section, ignored voxels tinted blue, truth tinted and
/// outlined green, the prediction outlined magenta; encoded as PNG by EMImaging.
enum OverlayImage {
    static let truthColor = RGB(0, 224, 112)
    static let predictionColor = RGB(255, 64, 255)
    static let ignoredColor = RGB(48, 80, 192)

    static func png(_ layers: SectionLayers) throws -> Data {
        var image = try RGBImage(gray: layers.gray, width: layers.width, height: layers.height)
        try image.blend(mask: layers.ignored, color: ignoredColor, alpha: 0.4)
        try image.blend(mask: layers.truth, color: truthColor, alpha: 0.22)
        try image.drawOutline(mask: layers.truth, color: truthColor)
        try image.drawOutline(mask: layers.predicted, color: predictionColor)
        return Data(try image.png())
    }
}
