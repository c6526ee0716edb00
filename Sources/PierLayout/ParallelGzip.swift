import CZlib
import Dispatch
import PierModel

/// A gzip stream (RFC 1952) compressed on several cores whose bytes do not depend on how many: the input is cut
/// into fixed 1 MiB chunks, each deflated on its own with the 32 KiB before it as dictionary and ended with a sync
/// flush (the last with the final block), and the pieces are concatenated into one gzip member whose CRC-32 is
/// combined with zlib's `crc32_combine` — the layout pigz writes. The header is fixed (mtime 0, OS 255 "unknown"),
/// so the same input, level and zlib give the same digest on every machine.
final class ParallelGzip {
    /// Input bytes per chunk: large enough that the restart at each chunk costs well under 0.1 % of ratio.
    static let chunkSize = 1 << 20
    /// Deflate's window: the history a chunk may refer back into.
    static let dictionarySize = 32 << 10
    /// Chunks in the ring per worker: one compressing while the next is filled.
    static let chunksPerWorker = 2

    let level: Int32
    let workers: Int
    let output: HashingFileWriter
    private var ring: [DeflateChunk]
    /// The ring slot being filled.
    private var current = 0
    /// Slots handed out, oldest first: their output is written in this order.
    private var submitted: [Int] = []
    private var crc: UInt = 0
    private var total: Int64 = 0

    /// Writes the gzip header to `output`. With one worker every chunk is compressed on the calling thread.
    init(level: Int32, workers: Int, output: HashingFileWriter) throws(PierError) {
        self.level = level
        self.workers = max(1, workers)
        self.output = output
        let slots = self.workers == 1 ? 1 : self.workers * Self.chunksPerWorker
        ring = (0..<slots).map { _ in DeflateChunk(size: Self.chunkSize, dictionarySize: Self.dictionarySize) }
        // XFL as zlib sets it: 2 for the slowest level, 4 for the fastest.
        let flags: UInt8 = level == 9 ? 2 : (level == 1 ? 4 : 0)
        try output.write([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, flags, 255])
    }

    /// Appends uncompressed bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(PierError) {
        var offset = 0
        while offset < bytes.count {
            var chunk = ring[current]
            if chunk.inputCount == Self.chunkSize {
                try submit(isLast: false)
                chunk = ring[current]
            }
            let count = min(bytes.count - offset, Self.chunkSize - chunk.inputCount)
            (chunk.input.baseAddress! + chunk.inputCount).copyMemory(
                from: bytes.baseAddress! + offset, byteCount: count)
            chunk.inputCount += count
            offset += count
        }
    }

    /// Compresses what is left, writes every chunk's output in order and the trailer (CRC-32, size mod 2^32).
    func finish() throws(PierError) {
        try submit(isLast: true)
        while !submitted.isEmpty { try writeOldest() }
        var trailer = [UInt8](repeating: 0, count: 8)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: crc) >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: total) >> (8 * index))
        }
        try output.write(trailer)
    }

    /// Hands the current chunk to a worker (or compresses it here), then readies the next slot: its earlier chunk
    /// written out, its dictionary the last 32 KiB of the chunk just handed out.
    private func submit(isLast: Bool) throws(PierError) {
        let chunk = ring[current]
        chunk.isLast = isLast
        chunk.inFlight = true
        submitted.append(current)
        if ring.count == 1 {
            chunk.compress(level: level)
            chunk.done.signal()
        } else {
            let level = level
            DispatchQueue.global(qos: .userInitiated).async {
                chunk.compress(level: level)
                chunk.done.signal()
            }
        }
        guard !isLast else { return }
        current = (current + 1) % ring.count
        let next = ring[current]
        if next.inFlight { try writeOldest() }
        let tail = min(chunk.inputCount, Self.dictionarySize)
        next.dictionary.baseAddress!.copyMemory(
            from: chunk.input.baseAddress! + (chunk.inputCount - tail), byteCount: tail)
        next.dictionaryCount = tail
        next.inputCount = 0
    }

    /// Waits for the oldest chunk in flight and appends its output.
    private func writeOldest() throws(PierError) {
        let chunk = ring[submitted.removeFirst()]
        chunk.done.wait()
        chunk.inFlight = false
        if let failure = chunk.failure {
            throw PierError(.other, operation: "compress layer", message: failure)
        }
        try output.write(UnsafeRawBufferPointer(rebasing: chunk.output[0..<chunk.outputCount]))
        crc = crc32_combine(crc, chunk.crc, off_t(chunk.inputCount))
        total += Int64(chunk.inputCount)
    }
}
