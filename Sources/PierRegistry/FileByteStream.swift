import NIOCore
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A byte range of a file as an async sequence of buffers from `BodyBufferPool`, for streaming request bodies:
/// memory stays at the pool's size whatever the layer size or the number of uploads. Each iteration opens the file
/// anew, so a retry can replay the body. With a `SharedFileRead` member, the first iteration shares its reads with
/// the other uploads of the same bytes.
public struct FileByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public let path: String
    public let offset: Int64
    public let length: Int64
    /// Called with the number of bytes read, for progress displays.
    public let progress: (@Sendable (Int) -> Void)?

    public let pool: BodyBufferPool
    /// Shares reads with concurrent uploads of the same file (offset 0, whole file).
    public let sharing: SharedFileRead.Member?

    public init(
        path: String, offset: Int64 = 0, length: Int64, pool: BodyBufferPool = .shared,
        sharing: SharedFileRead.Member? = nil,
        progress: (@Sendable (Int) -> Void)? = nil
    ) {
        self.path = path
        self.offset = offset
        self.length = length
        self.pool = pool
        self.sharing = sharing
        self.progress = progress
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self)
    }

    public final class Iterator: AsyncIteratorProtocol {
        let stream: FileByteStream
        var descriptor: Int32 = -1
        var position: Int64
        /// Pool slots this iteration has handed to the client.
        var held: [Int] = []
        let end: Int64
        /// Set while this iteration takes its blocks from the shared read.
        var shared: SharedFileRead.Member?

        init(stream: FileByteStream) {
            self.stream = stream
            self.position = stream.offset
            self.end = stream.offset + stream.length
            if let member = stream.sharing, member.claim() { shared = member }
        }

        deinit {
            if descriptor >= 0 { close(descriptor) }
            shared?.leave()
        }

        public func next() async throws -> ByteBuffer? {
            guard position < end else {
                if descriptor >= 0 {
                    close(descriptor)
                    descriptor = -1
                }
                shared?.leave()
                return nil
            }
            if descriptor < 0 {
                descriptor = open(stream.path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw PierError(
                        .invalidInput, operation: "read blob", message: "cannot open \(stream.path)",
                        cause: String(cString: strerror(errno)))
                }
            }
            let want = Int(Swift.min(Int64(stream.pool.bufferSize), end - position))
            if let member = shared {
                let blockSize = member.group.pool.bufferSize
                let want = Int(Swift.min(Int64(blockSize), end - position))
                let index = Int((position - stream.offset) / Int64(blockSize))
                if let buffer = try await member.block(index, descriptor: descriptor, offset: position, length: want),
                    buffer.readableBytes == want
                {
                    position += Int64(want)
                    stream.progress?(want)
                    return buffer
                }
                // Detached from the group (or the file came up short): the rest is read here.
                member.leave()
                shared = nil
            }
            var (slot, buffer) = try await stream.pool.take(held: &held)
            let fd = descriptor
            let offset = position
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer in
                Swift.max(0, pread(fd, pointer.baseAddress, want, off_t(offset)))
            }
            stream.pool.give(back: buffer, to: slot)
            guard got > 0 else {
                throw PierError(
                    .invalidInput, operation: "read blob",
                    message: "\(stream.path) ended at byte \(position - stream.offset) of \(stream.length)",
                    hint: "the file is truncated or changed while pier read it")
            }
            position += Int64(got)
            stream.progress?(got)
            return buffer
        }
    }
}
