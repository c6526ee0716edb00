import NIOConcurrencyHelpers
import NIOCore

/// The buffers every upload body in the process is read into: at most `capacity` of `bufferSize` bytes, reused
/// once the HTTP client has written them, so the memory uploads take stays fixed however many streams run at once
/// (a publish to three registries runs twelve). Each stream also keeps at most `perStream` buffers in flight, so
/// one large upload does not hold the whole pool.
///
/// Why a pool: AsyncHTTPClient asks for the next body part until the channel reports it is not writable, and that
/// report trails the writes (Transaction.writeRequestBodyPart), so with a fresh buffer per part, parts pile up per
/// upload (docs/benchmarks.md, "What was measured and changed"). A pooled buffer is handed out again only when the
/// pool holds its storage alone (`modifyIfUniquelyOwned`), that is when the client has released every copy it was
/// given; until one is free, the reader waits.
public final class BodyBufferPool: Sendable {
    public let capacity: Int
    public let bufferSize: Int
    public let perStream: Int
    /// A slot is nil while a reader fills its buffer.
    private let slots = NIOLockedValueBox<[ByteBuffer?]>([])

    /// The process-wide pool: 12 × 1 MiB, 4 per stream. Few buffers keep the memory fixed; 1 MiB parts (not
    /// 256 KiB) make a quarter of the body parts, shared-read blocks and waits per byte, which halves the context
    /// switches and cuts the CPU of a fan-out to three registries (docs/benchmarks.md, issue #20 section).
    public static let shared = BodyBufferPool(capacity: 12, bufferSize: 1 << 20, perStream: 4)

    /// Waits for a free buffer (or a shared block) back off from this: about the time a 1 MiB part takes to drain
    /// into a socket at 1 GB/s; shorter first pauses wake a waiting stream several times per part for nothing.
    public static let firstPause: Duration = .milliseconds(1)
    /// … up to this: a registry that ingests slowly would otherwise cost a wake-up every 100 µs per stream.
    public static let longestPause: Duration = .milliseconds(2)

    public init(capacity: Int, bufferSize: Int, perStream: Int) {
        self.capacity = max(1, capacity)
        self.bufferSize = bufferSize
        self.perStream = max(1, perStream)
    }

    /// A cleared buffer no one else holds, and its slot, for a stream whose earlier buffers sit in `held` (slots
    /// still in flight stay there); waits while the stream has `limit` (default `perStream`) in flight or the pool
    /// has none free.
    public func take(held: inout [Int], limit: Int? = nil) async throws -> (slot: Int, buffer: ByteBuffer) {
        // Without a deadline the wait ends only with a buffer (or cancellation).
        try await take(held: &held, limit: limit, until: nil)!
    }

    /// As `take(held:limit:)`, giving up (nil) at `deadline`.
    public func take(held: inout [Int], limit: Int? = nil, until deadline: ContinuousClock.Instant?) async throws
        -> (slot: Int, buffer: ByteBuffer)?
    {
        let limit = limit ?? perStream
        var pause = Self.firstPause
        while true {
            let mine = held
            let (stillHeld, found): ([Int], (Int, ByteBuffer)?) = slots.withLockedValue { slots in
                // A slot is in flight while its buffer's storage is shared with the client (or being filled).
                let inFlight = mine.filter { slots[$0]?.modifyIfUniquelyOwned({ _ in }) == nil }
                guard inFlight.count < limit else { return (inFlight, nil) }
                return (inFlight, Self.free(in: &slots, capacity: capacity, bufferSize: bufferSize))
            }
            held = stillHeld
            if let found {
                held.append(found.0)
                return found
            }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: pause)
            pause = Swift.min(pause * 2, Self.longestPause)
        }
    }

    private static func free(in slots: inout [ByteBuffer?], capacity: Int, bufferSize: Int) -> (Int, ByteBuffer)? {
        for index in slots.indices {
            guard var buffer = slots[index] else { continue }
            slots[index] = nil
            if buffer.modifyIfUniquelyOwned({ $0.clear() }) != nil { return (index, buffer) }
            slots[index] = buffer
        }
        guard slots.count < capacity else { return nil }
        slots.append(nil)
        return (slots.count - 1, ByteBufferAllocator().buffer(capacity: bufferSize))
    }

    /// Returns a filled (or unused) buffer to its slot; the copy the caller sends shares its storage.
    public func give(back buffer: ByteBuffer, to slot: Int) {
        slots.withLockedValue { $0[slot] = buffer }
    }
}

/// The bytes of `base` (a download being relayed to an upload) copied into pooled buffers, so a registry-to-registry
/// copy holds no more than a file upload: when the upload lags, the pool runs dry, pier stops reading the download,
/// and the download's own backpressure stops the source (instead of its chunks queueing up for the upload).
public struct PooledByteStream<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer {
    public typealias Element = ByteBuffer
    let base: Base
    let pool: BodyBufferPool

    public init(_ base: Base, pool: BodyBufferPool = .shared) {
        self.base = base
        self.pool = pool
    }

    public func makeAsyncIterator() -> Iterator { Iterator(upstream: base.makeAsyncIterator(), pool: pool) }

    public final class Iterator: AsyncIteratorProtocol {
        var upstream: Base.AsyncIterator
        let pool: BodyBufferPool
        var pending = ByteBuffer()
        var held: [Int] = []

        init(upstream: Base.AsyncIterator, pool: BodyBufferPool) {
            self.upstream = upstream
            self.pool = pool
        }

        public func next() async throws -> ByteBuffer? {
            while pending.readableBytes == 0 {
                guard let chunk = try await upstream.next() else { return nil }
                pending = chunk
            }
            var (slot, buffer) = try await pool.take(held: &held)
            var piece = pending.readSlice(length: Swift.min(pending.readableBytes, pool.bufferSize))!
            buffer.writeBuffer(&piece)
            pool.give(back: buffer, to: slot)
            return buffer
        }
    }
}
