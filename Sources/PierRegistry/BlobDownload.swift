import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

/// One blob downloaded into an open file, through async-http-client's delegate API: a 200 answer's body goes from
/// the event loop straight into a `BackgroundFileWriter`, with backpressure only when the writer is behind.
/// (async-http-client's async body sequence buffers a single read, so each 64 KiB read cost two hops between the
/// event loop and the reading task: a sixth of a 256 MiB pull on a 2-core machine; see docs/benchmarks.md.)
/// Every other answer (a redirect, a 401, an error) keeps at most `limit` bytes of its body, for the registry
/// client's status handling.
final class BlobDownload: Sendable {
    let fd: Int32
    let path: String
    let size: Int64?
    let progress: (@Sendable (Int) -> Void)?
    /// The exchange that answered 200, whose body is being written; at most one per download.
    private let streaming = NIOLockedValueBox<(task: HTTPClient.Task<Void>, writer: BackgroundFileWriter)?>(nil)

    init(fd: Int32, path: String, size: Int64?, progress: (@Sendable (Int) -> Void)?) {
        self.fd = fd
        self.path = path
        self.size = size
        self.progress = progress
    }

    /// The `RegistryClient.Request.exchange` of the download. It returns when the head arrives (within
    /// `headDeadline`; `RegistryClient.execute`'s permits cover that wait, as with the async API): a 200's body is
    /// still arriving then, and `finish()` waits for it, bounded only by the client's idle read timeout, however
    /// long a large layer takes. Any other answer returns with what arrived of its body within `bufferedDeadline`,
    /// at most `limit` bytes; the rest is not read.
    func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, headDeadline: TimeAmount, bufferedDeadline: Duration,
        limit: Int
    ) async throws -> HTTPClientResponse {
        let outgoing = try HTTPClient.Request(url: request.url, method: request.method, headers: request.headers)
        let eventLoop = client.eventLoopGroup.next()
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let delegate = Delegate(writer: writer, size: size, progress: progress, limit: limit, eventLoop: eventLoop)
        let task = client.execute(request: outgoing, delegate: delegate, eventLoop: .delegate(on: eventLoop))
        task.futureResult.whenComplete { delegate.ended($0) }
        let late = eventLoop.scheduleTask(in: headDeadline) {
            if delegate.failHead(HTTPClientError.deadlineExceeded) { task.cancel() }
        }
        let head: HTTPResponseHead
        do {
            head = try await withTaskCancellationHandler {
                try await delegate.head.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            late.cancel()
        } catch {
            late.cancel()
            throw error
        }
        guard head.status == .ok else {
            let body = await Self.keptBody(of: delegate, task: task, within: bufferedDeadline)
            return HTTPClientResponse(
                version: head.version, status: head.status, headers: head.headers, body: .bytes(body))
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
            try await withTaskCancellationHandler {
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

    /// What a non-200 answer's body holds once it has ended, `limit` bytes have arrived, or `deadline` has passed
    /// (or the caller was cancelled); the exchange is then cancelled, so the rest is never read.
    private static func keptBody(of delegate: Delegate, task: HTTPClient.Task<Void>, within deadline: Duration)
        async -> ByteBuffer
    {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await delegate.bodyKept.futureResult.get() }
            group.addTask { try? await Task.sleep(for: deadline) }
            await group.next()
            // Ends the other child: the body's promise completes once the exchange stops; the sleep is cancelled.
            task.cancel()
            group.cancelAll()
        }
        return await delegate.kept()
    }

    /// async-http-client calls it on `eventLoop` (`.delegate(on:)`), one call at a time; its state is touched only
    /// there.
    private final class Delegate: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = Void
        let writer: BackgroundFileWriter
        let size: Int64?
        let progress: (@Sendable (Int) -> Void)?
        let limit: Int
        let eventLoop: any EventLoop
        /// Completed once: with the head, or with the error that came first.
        let head: EventLoopPromise<HTTPResponseHead>
        /// Completed once a non-200 body has ended or `limit` bytes of it have arrived.
        let bodyKept: EventLoopPromise<Void>
        private var answered: HTTPResponseHead?
        private var headDone = false
        private var bodyDone = false
        private var keptBytes = ByteBuffer()

        init(
            writer: BackgroundFileWriter, size: Int64?, progress: (@Sendable (Int) -> Void)?, limit: Int,
            eventLoop: any EventLoop
        ) {
            self.writer = writer
            self.size = size
            self.progress = progress
            self.limit = limit
            self.eventLoop = eventLoop
            head = eventLoop.makePromise()
            bodyKept = eventLoop.makePromise()
        }

        /// Fails the head unless it was completed already; whether it did.
        func failHead(_ error: any Error) -> Bool {
            guard !headDone else { return false }
            headDone = true
            head.fail(error)
            return true
        }

        /// The exchange is over (answered, failed or cancelled): a head still awaited fails with the exchange's own
        /// error (a refused connection, a TLS failure, a cancellation), so the message and hint say what happened.
        func ended(_ result: Result<Void, any Error>) {
            switch result {
            case .failure(let error): _ = failHead(error)
            case .success: _ = failHead(HTTPClientError.remoteConnectionClosed)
            }
            keptAll()
        }

        private func keptAll() {
            guard !bodyDone else { return }
            bodyDone = true
            bodyKept.succeed()
        }

        /// The body kept so far, read on the event loop.
        func kept() async -> ByteBuffer {
            (try? await eventLoop.submit { self.keptBytes }.get()) ?? ByteBuffer()
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            answered = head
            if !headDone {
                headDone = true
                self.head.succeed(head)
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            guard answered?.status == .ok else {
                var part = buffer
                if let bytes = part.readSlice(length: min(part.readableBytes, limit - keptBytes.readableBytes)) {
                    keptBytes.writeImmutableBuffer(bytes)
                }
                if keptBytes.readableBytes >= limit { keptAll() }
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

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
    }
}
