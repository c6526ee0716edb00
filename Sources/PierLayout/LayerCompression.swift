import Foundation
import PierModel

/// How a layer's tar is compressed: gzip (every client) or zstd (containerd ≥ 1.5, podman/buildah, docker ≥ 23
/// with the containerd image store), each at a level. The output depends only on the tar bytes and the level, never
/// on how many cores compress it.
public enum LayerCompression: Sendable, Equatable {
    case gzip(level: Int32)
    case zstd(level: Int32)

    /// zlib's own default (`Z_DEFAULT_COMPRESSION` is level 6).
    public static let defaultGzipLevel: Int32 = 6
    /// zstd's own default (`ZSTD_CLEVEL_DEFAULT`).
    public static let defaultZstdLevel: Int32 = 3
    /// zlib levels; 0 would store without compressing.
    public static let gzipLevels: ClosedRange<Int32> = 1...9
    /// zstd's regular levels (20–22 need `--ultra` windows that some decoders refuse).
    public static let zstdLevels: ClosedRange<Int32> = 1...19
    /// gzip at level 6: what every client pulls.
    public static let standard = LayerCompression.gzip(level: defaultGzipLevel)

    /// Parses `--compression NAME` and `--compression-level N` (nil: the default level of that format).
    public init(name: String?, level: Int?) throws(PierError) {
        switch name ?? "gzip" {
        case "gzip":
            self = .gzip(level: try Self.checked(level, Self.gzipLevels, "gzip") ?? Self.defaultGzipLevel)
        case "zstd":
            self = .zstd(level: try Self.checked(level, Self.zstdLevels, "zstd") ?? Self.defaultZstdLevel)
        default:
            throw PierError(
                .usage, operation: "parse --compression", message: "\"\(name ?? "")\" is not gzip or zstd",
                hint: "gzip layers pull everywhere; zstd needs containerd ≥ 1.5, podman, or docker ≥ 23")
        }
    }

    static func checked(_ level: Int?, _ range: ClosedRange<Int32>, _ name: String) throws(PierError) -> Int32? {
        guard let level else { return nil }
        guard level >= Int(range.lowerBound), level <= Int(range.upperBound) else {
            throw PierError(
                .usage, operation: "parse --compression-level",
                message: "\(level) is not a \(name) level (\(range.lowerBound)–\(range.upperBound))")
        }
        return Int32(level)
    }

    /// The OCI layer media type (image-spec media-types.md); Docker's manifest format has no zstd layer type.
    public var mediaType: String {
        switch self {
        case .gzip: return MediaType.ociLayerGzip
        case .zstd: return MediaType.ociLayerZstd
        }
    }

    /// The cores this process may run on (Foundation reads the CPU affinity on Linux, so `taskset -c 0` gives 1).
    public static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
