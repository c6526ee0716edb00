import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// gzip for layers: deterministic (fixed header: mtime 0, OS 255 "unknown"), so the same tar gives the same
/// compressed bytes and digest on every run, machine and core count with the same zlib; see `ParallelGzip`.
public enum Gzip {
    /// Compresses `source` into `destination` at `level`, hashing input and output on the way.
    public static func compress(
        _ source: String, to destination: String, level: Int32 = LayerCompression.defaultGzipLevel
    ) throws(PierError) -> CompressedLayer {
        try LayerEncoder.compress(source, to: destination, compression: .gzip(level: level))
    }

    /// True when the file starts with the gzip magic bytes.
    public static func isCompressed(_ path: String) -> Bool {
        guard let fd = try? FileSystem.openRead(path, operation: "probe layer") else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 2)
        let got = magic.withUnsafeMutableBytes { FileSystem.readFully(fd, into: $0, count: 2) }
        return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b
    }
}
