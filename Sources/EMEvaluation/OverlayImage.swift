import Foundation

/// Composes and encodes overlay images. Pending EMImaging (PNG encoder, RGB image with
/// outline and blend) on main: until then no image is produced.
enum OverlayImage {
    static func png(_ layers: SectionLayers) throws -> Data? {
        nil
    }
}
