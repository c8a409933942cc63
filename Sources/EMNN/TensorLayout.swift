import CDNNL
import EMVolume

/// The shape of a 5D activation tensor: batch, channels and a z, y, x spatial extent.
public struct TensorShape: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Number of samples.
    public var batch: Int
    /// Number of channels.
    public var channels: Int
    /// Spatial extent, z, y, x.
    public var spatial: Coordinate

    /// Creates a shape.
    public init(batch: Int = 1, channels: Int, spatial: Coordinate) {
        self.batch = batch
        self.channels = channels
        self.spatial = spatial
    }

    /// Logical element count.
    public var elementCount: Int { batch * channels * spatial.product }

    /// Dimensions in oneDNN's logical order N, C, D, H, W.
    var dims: [Int] { [batch, channels, spatial.z, spatial.y, spatial.x] }

    /// A readable description.
    public var description: String { "\(batch)x\(channels)x\(spatial.z)x\(spatial.y)x\(spatial.x)" }
}

/// How a tensor's elements are laid out in memory.
///
/// Every supported layout stores channels in blocks of `b` lanes: element (n, c, s) lives at
/// `((n * blocks + c / b) * spatialCount + s) * b + c % b`. Plain NCDHW is `b = 1`,
/// oneDNN's `nCdhw8c` is `b = 8`, and channels-last NDHWC is `b = channels`. Channels are padded to a
/// multiple of `b`; padded lanes are kept at zero.
public enum TensorLayout: Hashable, Sendable, CustomStringConvertible {
    /// NCDHW, x fastest.
    case plain
    /// oneDNN's `nCdhw<b>c` with `b` in 4, 8, 16.
    case blocked(Int)
    /// NDHWC.
    case channelsLast

    /// Lanes per channel block for a tensor with `channels` channels.
    public func block(channels: Int) -> Int {
        switch self {
        case .plain: return 1
        case let .blocked(b): return b
        case .channelsLast: return max(1, channels)
        }
    }

    /// Channels rounded up to whole blocks.
    public func paddedChannels(_ channels: Int) -> Int {
        let b = block(channels: channels)
        return (channels + b - 1) / b * b
    }

    /// The oneDNN format tag of this layout.
    var tag: dnnl_format_tag_t {
        switch self {
        case .plain: return dnnl_ncdhw
        case .blocked(4): return dnnl_nCdhw4c
        case .blocked(8): return dnnl_nCdhw8c
        case .blocked(16): return dnnl_nCdhw16c
        case .blocked: preconditionFailure("unsupported channel block \(self)")
        case .channelsLast: return dnnl_ndhwc
        }
    }

    /// The layouts a tensor can take, in the order they are tried when matching oneDNN's choice.
    static let all: [TensorLayout] = [.blocked(8), .blocked(16), .plain, .channelsLast, .blocked(4)]

    /// The layout oneDNN describes with `md` for `shape`, if it is one we support.
    static func matching(_ md: dnnl_memory_desc_t, shape: TensorShape) -> TensorLayout? {
        for layout in all {
            if let candidate = try? memoryDescriptor(shape.dims, tag: layout.tag), sameLayout(candidate, md) {
                return layout
            }
        }
        return nil
    }

    /// A readable description.
    public var description: String {
        switch self {
        case .plain: return "ncdhw"
        case let .blocked(b): return "nCdhw\(b)c"
        case .channelsLast: return "ndhwc"
        }
    }
}
