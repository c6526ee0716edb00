import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Uncompressed layer bytes in, a compressed blob file out, in one pass: the diff ID is hashed as the bytes arrive,
/// they are compressed (gzip on several cores, or zstd), and the blob digest is hashed as the compressed bytes are
/// written. Nothing is read twice and no uncompressed copy reaches the disk.
public final class LayerEncoder {
    public let compression: LayerCompression
    private let output: HashingFileWriter
    private var uncompressed = DigestHasher()
    private let gzip: ParallelGzip?
    private let zstd: ZstdStream?

    /// Writes to `fd` (not closed here), `path` naming it in errors, with up to `workers` cores compressing.
    public init(compression: LayerCompression, fd: Int32, path: String, workers: Int = LayerCompression.availableCores)
        throws(PierError)
    {
        self.compression = compression
        output = HashingFileWriter(fd: fd, path: path)
        switch compression {
        case .gzip(let level):
            gzip = try ParallelGzip(level: level, workers: workers, output: output)
            zstd = nil
        case .zstd(let level):
            zstd = try ZstdStream(level: level, workers: workers, output: output)
            gzip = nil
        }
    }

    /// Appends uncompressed bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(PierError) {
        uncompressed.update(bytes)
        if let gzip { try gzip.write(bytes) } else { try zstd?.write(bytes) }
    }

    /// Ends the stream; returns the blob's digest and size and the diff ID.
    public func finish() throws(PierError) -> CompressedLayer {
        if let gzip { try gzip.finish() } else { try zstd?.finish() }
        let hasher = output.hasher
        return CompressedLayer(
            digest: hasher.finalize(), size: hasher.count, uncompressedDigest: uncompressed.finalize(),
            mediaType: compression.mediaType)
    }

    /// Compresses the file at `source` into `destination`; on failure no partial `destination` is left.
    public static func compress(
        _ source: String, to destination: String, compression: LayerCompression = .standard,
        workers: Int = LayerCompression.availableCores
    ) throws(PierError) -> CompressedLayer {
        let input = try FileSystem.openRead(source, operation: "compress layer")
        defer { close(input) }
        let fd = try FileSystem.openWrite(destination, operation: "compress layer")
        defer { close(fd) }
        do throws(PierError) {
            let encoder = try LayerEncoder(compression: compression, fd: fd, path: destination, workers: workers)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileSystem.bufferSize, alignment: 64)
            defer { buffer.deallocate() }
            while true {
                let got = FileSystem.readFully(input, into: buffer, count: buffer.count)
                guard got >= 0 else {
                    throw PierError(
                        .invalidInput, operation: "compress layer", message: "cannot read \(source)",
                        cause: String(cString: strerror(errno)))
                }
                if got == 0 { break }
                try encoder.write(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            }
            return try encoder.finish()
        } catch {
            unlink(destination)
            throw error
        }
    }
}
