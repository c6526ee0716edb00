import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A byte range of a file sent as a request body with `sendfile(2)`, through async-http-client's delegate API (its
/// async request body takes only byte buffers): over plain HTTP, a local or in-cluster registry, the bytes go from
/// the page cache to the socket without a copy through pier, so a fan-out costs pier almost no CPU beside the
/// registries it feeds (docs/benchmarks.md, "Fourth pass"). TLS encrypts in user space, so an https upload streams
/// a `FileByteStream` instead (`applies(to:)`).
struct FileRegionUpload: Sendable {
    let path: String
    let offset: Int64
    let length: Int64
    /// Told of every part the connection has written, for progress displays.
    let progress: (@Sendable (Int) -> Void)?

    /// Bytes per write: the unit of progress. async-http-client takes a part while the channel is writable, so about
    /// one part waits behind the one being sent.
    static let partSize: Int64 = 8 << 20

    /// Whether an exchange with `url` can carry a file region: a plain-HTTP URL, whose bytes NIO hands to the
    /// socket untouched.
    static func applies(to url: String) -> Bool {
        guard case .success(let origin) = HTTPOrigin.parse(url) else { return false }
        return !origin.isHTTPS
    }

    /// The `RegistryClient.Request.exchange` of the upload: sends `request` (its URL, method and headers; the body
    /// is the file range) and returns the answer with at most `limit` bytes of its body, as it stands when the body
    /// ends or `bufferedDeadline` passes.
    func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, headDeadline: TimeAmount, bufferedDeadline: Duration,
        limit: Int
    ) async throws -> HTTPClientResponse {
        let eventLoop = client.eventLoopGroup.next()
        let file = SentFile(path: path, offset: offset, length: length)
        let outgoing = try HTTPClient.Request(
            url: request.url, method: request.method, headers: request.headers,
            body: .stream(contentLength: length) { writer in file.send(to: writer, on: eventLoop) })
        let delegate = ExchangeDelegate(
            limit: limit, eventLoop: eventLoop,
            partSent: { [progress] part in
                progress?(part.readableBytes)
                file.partSent()
            })
        let (task, head) = try await delegate.start(
            outgoing, on: client, headDeadline: headDeadline, whenEnded: { file.exchangeEnded($0) })
        return await delegate.keptResponse(head, task: task, within: bufferedDeadline)
    }

    /// The file of one exchange, open while the connection may still read it. A part async-http-client has taken is
    /// not yet written (it queues it on the channel), and a descriptor closed under a queued region could be reused
    /// by another file before NIO sends it. So the file is closed only once every part taken has been written, or
    /// the exchange has failed (async-http-client then closes the connection, which drops what it queued). An
    /// exchange answered 2xx before its body was written keeps the file open until the parts are written; if they
    /// never are, the descriptor stays open until pier exits.
    private final class SentFile: @unchecked Sendable {
        let path: String
        let offset: Int64
        let length: Int64
        private struct State {
            var handle: NIOFileHandle?
            var opened = false
            var issued = 0
            var sent = 0
            var issuing = false
            var failed = false
            /// Set once the exchange is over.
            var over = false
            /// The writer's wait for the part it gave last.
            var waiting: EventLoopPromise<Void>?
        }
        private let state = NIOLockedValueBox(State())

        init(path: String, offset: Int64, length: Int64) {
            self.path = path
            self.offset = offset
            self.length = length
        }

        /// Writes the range part by part. A file shorter than the range fails before anything is sent (sendfile
        /// would stop short, and the registry would wait for the rest).
        func send(to writer: HTTPClient.Body.StreamWriter, on loop: any EventLoop) -> EventLoopFuture<Void> {
            let opened: Result<NIOFileHandle, PierError> = state.withLockedValue { state in
                guard !state.opened else {
                    return .failure(PierError(.other, operation: "read blob", message: "the body was asked for twice"))
                }
                state.opened = true
                return openFile().map { handle in
                    state.handle = handle
                    state.issuing = true
                    return handle
                }
            }
            guard case .success(let handle) = opened else {
                if case .failure(let error) = opened { return loop.makeFailedFuture(error) }
                return loop.makeSucceededVoidFuture()
            }
            let promise = loop.makePromise(of: Void.self)
            promise.completeWithTask { [self] in
                defer { closeIfDone { $0.issuing = false } }
                var position = offset
                let end = offset + length
                while position < end {
                    let part = min(FileRegionUpload.partSize, end - position)
                    let region = FileRegion(
                        fileHandle: handle, readerIndex: Int(position), endIndex: Int(position + part))
                    state.withLockedValue { $0.issued += 1 }
                    try await taken(writer.write(.fileRegion(region)), on: loop).get()
                    position += part
                }
            }
            return promise.futureResult
        }

        func partSent() { closeIfDone { $0.sent += 1 } }

        func exchangeEnded(_ result: Result<Void, any Error>) {
            let waiting = state.withLockedValue { state in
                state.over = true
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.fail(HTTPClientError.requestStreamCancelled)
            closeIfDone { if case .failure = result { $0.failed = true } }
        }

        /// Completes when async-http-client has taken the part, or fails when the exchange is over first: a request
        /// that fails while its body is held back drops the future that would resume it, never completing it.
        private func taken(_ write: EventLoopFuture<Void>, on loop: any EventLoop) -> EventLoopFuture<Void> {
            let promise = loop.makePromise(of: Void.self)
            let over = state.withLockedValue { state in
                if !state.over { state.waiting = promise }
                return state.over
            }
            if over { promise.fail(HTTPClientError.requestStreamCancelled) }
            write.whenComplete { result in
                let mine = self.state.withLockedValue { state in
                    guard state.waiting?.futureResult === promise.futureResult else { return false }
                    state.waiting = nil
                    return true
                }
                if mine { promise.completeWith(result) }
            }
            return promise.futureResult
        }

        private func openFile() -> Result<NIOFileHandle, PierError> {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                return .failure(
                    PierError(
                        .invalidInput, operation: "read blob", message: "cannot open \(path)",
                        cause: String(cString: strerror(errno))))
            }
            var status = stat()
            guard fstat(descriptor, &status) == 0, Int64(status.st_size) >= offset + length else {
                close(descriptor)
                return .failure(
                    PierError(
                        .invalidInput, operation: "read blob",
                        message: "\(path) holds fewer than the \(offset + length) bytes to send",
                        hint: "the file is truncated or changed while pier read it"))
            }
            return .success(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor))
        }

        private func closeIfDone(_ change: (inout State) -> Void) {
            let done: NIOFileHandle? = state.withLockedValue { state in
                change(&state)
                guard let handle = state.handle, !state.issuing, state.failed || state.sent >= state.issued else {
                    return nil
                }
                state.handle = nil
                return handle
            }
            try? done?.close()
        }
    }
}
