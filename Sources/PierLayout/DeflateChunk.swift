import CZlib
import Dispatch
import Foundation

/// One fixed-size piece of a `ParallelGzip` stream: its input, the 32 KiB before it (the deflate dictionary), and
/// its raw deflate output ending on a byte boundary. Compressed on any thread; the owner reads the results only
/// after `done` is signalled.
final class DeflateChunk: @unchecked Sendable {
    let input: UnsafeMutableRawBufferPointer
    var inputCount = 0
    let dictionary: UnsafeMutableRawBufferPointer
    var dictionaryCount = 0
    private(set) var output: UnsafeMutableRawBufferPointer
    private(set) var outputCount = 0
    private(set) var crc: UInt = 0
    var isLast = false
    private(set) var failure: String?
    /// Set by the owner when the chunk is handed to a worker; cleared when its output has been written.
    var inFlight = false
    let done = DispatchSemaphore(value: 0)

    init(size: Int, dictionarySize: Int) {
        input = .allocate(byteCount: size, alignment: 64)
        dictionary = .allocate(byteCount: dictionarySize, alignment: 64)
        // Incompressible input grows by 5 bytes per 64 KiB stored block, plus the flush marker.
        output = .allocate(byteCount: size + size / 64 + 1024, alignment: 64)
    }

    deinit {
        input.deallocate()
        dictionary.deallocate()
        output.deallocate()
    }

    /// Input is judged in blocks of this size: large enough for a stable byte histogram, small enough that a file
    /// boundary inside a chunk costs little.
    static let sampleSize = 64 << 10
    /// Bits per byte from which a block is stored instead of compressed. Deflate's Huffman stage cannot beat the
    /// byte entropy, and its matches reach back only 32 KiB, so a block above this gains at most 0.4 %
    /// ((8 − 7.97) / 8) — while searching it for matches costs zlib as much as text (about 20 ns a byte).
    /// Already-compressed files (archives, images, fonts) land here.
    static let incompressibleEntropy = 7.97
    /// Below this a histogram says little; short blocks are always compressed.
    static let minimumSample = 4096

    /// Raw deflate (RFC 1951) of the input with the dictionary as history: a sync flush (an empty stored block,
    /// so the next chunk starts on a byte boundary) or, for the last chunk, the final block. Blocks of high byte
    /// entropy are stored (level 0) rather than searched. The same input, dictionary and level give the same bytes
    /// on any thread.
    func compress(level: Int32) {
        failure = nil
        let base = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        crc = UInt(crc32(0, base, UInt32(inputCount)))
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            failure = "zlib initialisation failed"
            return
        }
        defer { deflateEnd(&stream) }
        if dictionaryCount > 0 {
            deflateSetDictionary(
                &stream, dictionary.baseAddress!.assumingMemoryBound(to: Bytef.self), UInt32(dictionaryCount))
        }
        stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(output.count)
        var current = level
        var offset = 0
        while offset < inputCount {
            let count = min(Self.sampleSize, inputCount - offset)
            let wanted: Int32 =
                Self.looksIncompressible(UnsafeRawBufferPointer(start: base + offset, count: count))
                ? 0 : level
            if wanted != current {
                // deflateParams ends the block so far with the old level, then switches.
                guard deflateParams(&stream, wanted, Z_DEFAULT_STRATEGY) == Z_OK else {
                    failure = "zlib could not change level"
                    return
                }
                current = wanted
            }
            stream.next_in = base + offset
            stream.avail_in = UInt32(count)
            let status = deflate(&stream, Z_NO_FLUSH)
            guard status == Z_OK, stream.avail_in == 0, stream.avail_out > 0 else {
                failure = "zlib deflate stopped early (status \(status))"
                return
            }
            offset += count
        }
        let status = deflate(&stream, isLast ? Z_FINISH : Z_SYNC_FLUSH)
        outputCount = output.count - Int(stream.avail_out)
        // A complete chunk left room in the output: a full buffer could hide pending bytes.
        let complete = isLast ? status == Z_STREAM_END : status == Z_OK && stream.avail_out > 0
        if !complete { failure = "zlib deflate stopped early (status \(status))" }
    }

    /// True when the block's byte entropy is at or above `incompressibleEntropy`.
    static func looksIncompressible(_ block: UnsafeRawBufferPointer) -> Bool {
        guard block.count >= minimumSample else { return false }
        var counts = [Int](repeating: 0, count: 256)
        counts.withUnsafeMutableBufferPointer { counts in
            for byte in block { counts[Int(byte)] &+= 1 }
        }
        let total = Double(block.count)
        var sum = 0.0
        for count in counts where count > 0 {
            let c = Double(count)
            sum += c * log2(c)
        }
        return log2(total) - sum / total >= incompressibleEntropy
    }
}
