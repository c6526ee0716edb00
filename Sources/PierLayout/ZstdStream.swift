import CZstd
import PierModel

/// A zstd stream (RFC 8878) through libzstd's own worker threads. libzstd's multi-threaded mode cuts the input into
/// jobs whose size depends only on the level, so any number of workers (one or more) writes the same bytes; the
/// single-threaded mode (zero workers) would write other bytes and is never used. Frames carry a content checksum.
final class ZstdStream {
    let output: HashingFileWriter
    private let context: OpaquePointer
    private let buffer: UnsafeMutableRawBufferPointer

    init(level: Int32, workers: Int, output: HashingFileWriter) throws(PierError) {
        guard let context = ZSTD_createCCtx() else {
            throw PierError(.other, operation: "compress layer", message: "zstd initialisation failed")
        }
        self.context = context
        self.output = output
        buffer = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 64)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        // A libzstd built without threads refuses this and compresses on the caller's thread: still one format.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(1, workers)))
    }

    deinit {
        ZSTD_freeCCtx(context)
        buffer.deallocate()
    }

    /// Appends uncompressed bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(PierError) {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try step(&input, ZSTD_e_continue)
        }
    }

    /// Ends the frame and writes everything libzstd still holds.
    func finish() throws(PierError) {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
    }

    /// One call into libzstd; returns what it says is left to flush.
    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws(PierError) -> Int {
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &out, &input, directive)
        try check(remaining)
        try output.write(UnsafeRawBufferPointer(rebasing: buffer[0..<out.pos]))
        return remaining
    }

    private func check(_ code: Int) throws(PierError) {
        guard ZSTD_isError(code) != 0 else { return }
        throw PierError(
            .other, operation: "compress layer", message: "zstd: \(String(cString: ZSTD_getErrorName(code)))")
    }
}
