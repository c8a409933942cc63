import Foundation

/// Which z sections to draw: those with the most truth (then prediction) voxels, at least a
/// few sections apart, in increasing z.
enum OverlaySelection {
    static func sections(truth: [Int], predicted: [Int], count: Int) -> [Int] {
        guard count > 0, !truth.isEmpty else { return [] }
        let order = truth.indices.sorted { (truth[$0], predicted[$0], -$0) > (truth[$1], predicted[$1], -$1) }
        let spacing = max(1, truth.count / (2 * count))
        var chosen: [Int] = []
        for z in order where chosen.count < count && chosen.allSatisfy({ abs($0 - z) >= spacing }) {
            chosen.append(z)
        }
        return chosen.sorted()
    }
}

/// The layers of one section: gray data and three masks, all `width * height`.
struct SectionLayers {
    var width: Int
    var height: Int
    var gray: [UInt8]
    var truth: [UInt8]
    var predicted: [UInt8]
    var ignored: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        gray = [UInt8](repeating: 0, count: width * height)
        truth = gray
        predicted = gray
        ignored = gray
    }

    /// Every `factor` x `factor` block becomes one pixel: the mean gray value, and a mask pixel
    /// set when any voxel of the block is set (so thin structures stay visible).
    func downsampled(by factor: Int) -> SectionLayers {
        if factor == 1 { return self }
        var result = SectionLayers(width: (width + factor - 1) / factor, height: (height + factor - 1) / factor)
        var sums = [Int](repeating: 0, count: result.width * result.height)
        var counts = sums
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x, j = (y / factor) * result.width + x / factor
                sums[j] += Int(gray[i])
                counts[j] += 1
                result.truth[j] |= truth[i]
                result.predicted[j] |= predicted[i]
                result.ignored[j] |= ignored[i]
            }
        }
        for j in sums.indices { result.gray[j] = UInt8(sums[j] / counts[j]) }
        return result
    }

    /// The overlay image of these layers at most `maximumSide` pixels wide and high.
    func overlay(z: Int, maximumSide: Int, truthVoxels: Int, predictedVoxels: Int) throws -> SliceOverlay {
        let factor = max(1, (max(width, height) + maximumSide - 1) / maximumSide)
        let small = downsampled(by: factor)
        return SliceOverlay(z: z, png: try OverlayImage.png(small), width: small.width, height: small.height, downsampling: factor,
                            truthVoxels: truthVoxels, predictedVoxels: predictedVoxels)
    }
}
