import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

/// One blob downloaded into an open file, through async-http-client's delegate API: a 200 answer's body goes from
/// the event loop straight into a `BackgroundFileWriter`, with backpressure only when the writer is behind.
/// (async-http-client's async body sequence buffers a single read: each 64 KiB read then costs two thread hops, a
/// fifth of a 256 MiB pull on a 2-core machine; see docs/benchmarks.md.) Every other answer (a redirect, a 401, an
/// error) is kept in memory, at most `limit` bytes, for the registry client's status handling.
final class BlobDownload: Sendable {
    let fd: Int32
    let path: String
    let size: Int64?
    let progress: (@Sendable (Int) -> Void)?
    /// The exchange that answered 200, whose body is being written; at most one per download.
    private let streaming = NIOLockedValueBox<
        (task: HTTPClient.Task<HTTPClientResponse>, writer: BackgroundFileWriter)?
    >(
        nil)

    init(fd: Int32, path: String, size: Int64?, progress: (@Sendable (Int) -> Void)?) {
        self.fd = fd
        self.path = path
        self.size = size
        self.progress = progress
    }

    /// The `RegistryClient.Request.exchange` of the download: returns when the head arrives (the permit of
    /// `RegistryClient.execute` covers the wait for the head, as with the async API). A 200's body is still arriving
    /// then (`finish()` waits for it); any other answer's body is read, within `bufferedDeadline`.
    func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, deadline: TimeAmount, bufferedDeadline: Duration,
        limit: Int
    ) async throws -> HTTPClientResponse {
        let eventLoop = client.eventLoopGroup.next()
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let delegate = Delegate(
            writer: writer, size: size, progress: progress, limit: limit, head: eventLoop.makePromise())
        let task = client.execute(
            request: try HTTPClient.Request(
                url: request.url, method: request.method, headers: request.headers),
            delegate: delegate, eventLoop: .delegate(on: eventLoop), deadline: .now() + deadline)
        task.futureResult.whenFailure { delegate.failHead($0) }
        let head = try await withTaskCancellationHandler {
            try await delegate.head.futureResult.get()
        } onCancel: {
            task.cancel()
        }
        guard head.status == .ok else {
            return try await Self.awaiting(task, within: bufferedDeadline)
        }
        streaming.withLockedValue { $0 = (task, writer) }
        return HTTPClientResponse(version: head.version, status: head.status, headers: head.headers)
    }

    /// Waits for the body of the 200 answer, then for its writes; the digest and size of what was written.
    func finish() async throws -> (digest: Digest, size: Int64) {
        guard let (task, writer) = streaming.withLockedValue({ $0 }) else {
            throw PierError(.other, operation: "pull blob", message: "no answer to write")
        }
        do {
            _ = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch {
            await writer.drain()
            throw error
        }
        return try await writer.finish()
    }

    /// Stops the exchange still writing, if any, and waits until nothing writes to the file any more.
    func abandon() async {
        guard let (task, writer) = streaming.withLockedValue({ $0 }) else { return }
        task.cancel()
        _ = try? await task.futureResult.get()
        await writer.drain()
    }

    /// The whole answer of `task`, or an error once `deadline` has passed (the task is then cancelled).
    private static func awaiting(_ task: HTTPClient.Task<HTTPClientResponse>, within deadline: Duration)
        async throws -> HTTPClientResponse
    {
        try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await task.futureResult.get() }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                task.cancel()
                throw BodyDeadlineExceeded(deadline: deadline)
            }
            return response
        }
    }

    /// async-http-client calls it on one event loop (`.delegate(on:)`), one call at a time.
    private final class Delegate: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = HTTPClientResponse
        let writer: BackgroundFileWriter
        let size: Int64?
        let progress: (@Sendable (Int) -> Void)?
        let limit: Int
        let head: EventLoopPromise<HTTPResponseHead>
        private var answered: HTTPResponseHead?
        private var kept = ByteBuffer()

        init(
            writer: BackgroundFileWriter, size: Int64?, progress: (@Sendable (Int) -> Void)?, limit: Int,
            head: EventLoopPromise<HTTPResponseHead>
        ) {
            self.writer = writer
            self.size = size
            self.progress = progress
            self.limit = limit
            self.head = head
        }

        func failHead(_ error: any Error) {
            guard answered == nil else { return }
            head.fail(error)
        }

        func didReceiveHead(task: HTTPClient.Task<HTTPClientResponse>, _ head: HTTPResponseHead)
            -> EventLoopFuture<Void>
        {
            answered = head
            self.head.succeed(head)
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<HTTPClientResponse>, _ buffer: ByteBuffer)
            -> EventLoopFuture<Void>
        {
            guard answered?.status == .ok else {
                var part = buffer
                if kept.readableBytes < limit,
                    let bytes = part.readSlice(length: min(part.readableBytes, limit - kept.readableBytes))
                {
                    kept.writeImmutableBuffer(bytes)
                }
                return task.eventLoop.makeSucceededVoidFuture()
            }
            progress?(buffer.readableBytes)
            if let size, writer.count + Int64(buffer.readableBytes) > size {
                return task.eventLoop.makeFailedFuture(
                    PierError(
                        .verification, operation: "pull blob",
                        message: "got more than the \(size) bytes the descriptor says"))
            }
            return writer.write(buffer, on: task.eventLoop)
        }

        func didFinishRequest(task: HTTPClient.Task<HTTPClientResponse>) throws -> HTTPClientResponse {
            guard let answered else { throw HTTPClientError.remoteConnectionClosed }
            return HTTPClientResponse(
                version: answered.version, status: answered.status, headers: answered.headers,
                body: answered.status == .ok ? .init() : .bytes(kept))
        }
    }
}
