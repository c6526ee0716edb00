#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import PierModel

/// A byte range of a file as an async sequence of buffers, for streaming request bodies. Each iteration opens the
/// file anew, so a retry can replay the body.
///
/// Memory is bounded by a small pool of buffers per iteration, reused once the HTTP client has written them.
/// AsyncHTTPClient asks for the next body part until the channel reports it is not writable, and that report trails
/// the writes (Transaction.writeRequestBodyPart), so a fresh buffer per part let a dozen or more parts pile up per
/// upload on a busy two-core machine (heaptrack: 13.6 MB of 256 KiB buffers in flight for four uploads). A pooled
/// buffer is reused only when pier holds its storage alone again (`modifyIfUniquelyOwned`), i.e. when the client
/// has released it after the write; until one is free the producer waits.
public struct FileByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public let path: String
    public let offset: Int64
    public let length: Int64
    public let chunkSize: Int
    /// Called with the number of bytes read, for progress displays.
    public let progress: (@Sendable (Int) -> Void)?

    /// Buffers per iteration: enough to keep a loopback socket busy while the client releases the previous ones.
    public static let poolSize = 4

    public init(path: String, offset: Int64 = 0, length: Int64, chunkSize: Int = 256 << 10, progress: (@Sendable (Int) -> Void)? = nil) {
        self.path = path
        self.offset = offset
        self.length = length
        self.chunkSize = chunkSize
        self.progress = progress
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self)
    }

    public final class Iterator: AsyncIteratorProtocol {
        let stream: FileByteStream
        var descriptor: Int32 = -1
        var position: Int64
        let end: Int64
        let allocator = ByteBufferAllocator()
        var pool: [ByteBuffer] = []

        init(stream: FileByteStream) {
            self.stream = stream
            self.position = stream.offset
            self.end = stream.offset + stream.length
        }

        deinit { if descriptor >= 0 { close(descriptor) } }

        public func next() async throws -> ByteBuffer? {
            guard position < end else {
                if descriptor >= 0 {
                    close(descriptor)
                    descriptor = -1
                }
                return nil
            }
            if descriptor < 0 {
                descriptor = open(stream.path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw PierError(.invalidInput, operation: "read blob", message: "cannot open \(stream.path)",
                        cause: String(cString: strerror(errno)))
                }
            }
            let want = Int(Swift.min(Int64(stream.chunkSize), end - position))
            let slot = try await freeBuffer()
            let fd = descriptor
            let offset = position
            let got = pool[slot].writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer in
                Swift.max(0, pread(fd, pointer.baseAddress, want, off_t(offset)))
            }
            guard got > 0 else {
                throw PierError(
                    .invalidInput, operation: "read blob",
                    message: "\(stream.path) ended at byte \(position - stream.offset) of \(stream.length)",
                    hint: "the file is truncated or changed while pier read it")
            }
            position += Int64(got)
            stream.progress?(got)
            return pool[slot]
        }

        /// The index of a pooled buffer no one else holds, cleared; a new one while the pool is not full; else waits.
        func freeBuffer() async throws -> Int {
            while true {
                for index in pool.indices where pool[index].modifyIfUniquelyOwned({ $0.clear() }) != nil { return index }
                if pool.count < FileByteStream.poolSize {
                    pool.append(allocator.buffer(capacity: stream.chunkSize))
                    return pool.count - 1
                }
                try await Task.sleep(for: .microseconds(200))
            }
        }
    }
}
