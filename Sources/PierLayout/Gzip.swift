import CZlib
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Deterministic streaming gzip: a fixed level, mtime 0 and OS byte 255 ("unknown") in the header, so the same
/// tar gives the same compressed bytes, and digest, on every Linux and macOS run with the same zlib
/// (swift-container-plugin `gzip.swift` makes the same choice).
public enum Gzip {
    public struct Result: Sendable {
        /// Digest and size of the compressed output.
        public var digest: Digest
        public var size: Int64
        /// Digest of the uncompressed input (the layer's diff ID).
        public var uncompressedDigest: Digest
    }

    /// Compresses `source` into `destination`, hashing input and output on the way.
    public static func compress(_ source: String, to destination: String, level: Int32 = 6) throws(PierError) -> Result
    {
        let input = try FileSystem.openRead(source, operation: "compress layer")
        defer { close(input) }
        let output = try FileSystem.openWrite(destination, operation: "compress layer")
        defer { close(output) }
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip wrapper instead of a zlib one.
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            throw PierError(.other, operation: "compress layer", message: "zlib initialisation failed")
        }
        defer { deflateEnd(&stream) }
        var header = gz_header()
        header.os = 255
        header.time = 0
        deflateSetHeader(&stream, &header)

        let size = FileSystem.bufferSize
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        var raw = DigestHasher()
        var compressed = DigestHasher()
        var finished = false
        while !finished {
            let got = read(input, inBuffer, size)
            guard got >= 0 else {
                throw PierError(.invalidInput, operation: "compress layer", message: "cannot read \(source)")
            }
            raw.update(UnsafeRawBufferPointer(start: inBuffer, count: got))
            stream.next_in = inBuffer
            stream.avail_in = UInt32(got)
            let flush = got == 0 ? Z_FINISH : Z_NO_FLUSH
            repeat {
                stream.next_out = outBuffer
                stream.avail_out = UInt32(size)
                let status = deflate(&stream, flush)
                guard status != Z_STREAM_ERROR else {
                    throw PierError(.other, operation: "compress layer", message: "zlib stream error")
                }
                let produced = size - Int(stream.avail_out)
                let chunk = UnsafeRawBufferPointer(start: outBuffer, count: produced)
                compressed.update(chunk)
                try FileSystem.writeAll(output, chunk, path: destination)
                if status == Z_STREAM_END { finished = true }
            } while stream.avail_out == 0
        }
        return Result(digest: compressed.finalize(), size: compressed.count, uncompressedDigest: raw.finalize())
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
