import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import PierModel

/// The answer side of one exchange made through async-http-client's delegate API (`BlobDownload`,
/// `StreamedUpload`): the head as soon as it arrives; with a `writer`, a 200 answer's body goes from the event loop
/// into it; every other body keeps at most `limit` bytes, for the registry client's status handling.
///
/// async-http-client calls it on `eventLoop` (`.delegate(on:)`), one call at a time; its state is touched only there.
final class ExchangeDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void
    let writer: BackgroundFileWriter?
    let size: Int64?
    let progress: (@Sendable (Int) -> Void)?
    let limit: Int
    let eventLoop: any EventLoop
    /// Ends the request body still being sent, if any: called when an answer of 300 or more arrives and before the
    /// exchange is cancelled. async-http-client holds a body back once such an answer has come (and when the channel
    /// is full) with a promise it never completes if the exchange then ends; a body that fails is its way out.
    let abandonBody: (@Sendable () -> Void)?
    /// Completed once: with the head, or with the error that came first.
    private let head: EventLoopPromise<HTTPResponseHead>
    /// Completed once a kept body has ended or `limit` bytes of it have arrived.
    private let bodyKept: EventLoopPromise<Void>
    private var answered: HTTPResponseHead?
    private var headDone = false
    private var bodyDone = false
    private var keptBytes = ByteBuffer()

    /// `size` bounds what `writer` takes; `progress` is told of every written part.
    init(
        writer: BackgroundFileWriter? = nil, size: Int64? = nil, progress: (@Sendable (Int) -> Void)? = nil,
        limit: Int, eventLoop: any EventLoop, abandonBody: (@Sendable () -> Void)? = nil
    ) {
        self.abandonBody = abandonBody
        self.writer = writer
        self.size = size
        self.progress = progress
        self.limit = limit
        self.eventLoop = eventLoop
        head = eventLoop.makePromise()
        bodyKept = eventLoop.makePromise()
    }

    /// Starts `request` and returns when its head arrives, within `headDeadline` (the exchange is cancelled then,
    /// and when the calling task is). `whenEnded` is told when the exchange is over, whatever the outcome.
    func start(
        _ request: HTTPClient.Request, on client: HTTPClient, headDeadline: TimeAmount,
        whenEnded: (@Sendable (Result<Void, any Error>) -> Void)? = nil
    ) async throws -> (task: HTTPClient.Task<Void>, head: HTTPResponseHead) {
        let task = client.execute(request: request, delegate: self, eventLoop: .delegate(on: eventLoop))
        task.futureResult.whenComplete { result in
            self.ended(result)
            whenEnded?(result)
        }
        let late = eventLoop.scheduleTask(in: headDeadline) {
            if self.failHead(HTTPClientError.deadlineExceeded) { self.stop(task) }
        }
        defer { late.cancel() }
        let head = try await withTaskCancellationHandler {
            try await self.head.futureResult.get()
        } onCancel: {
            self.stop(task)
        }
        return (task, head)
    }

    /// Cancels the exchange, its request body first.
    private func stop(_ task: HTTPClient.Task<Void>) {
        abandonBody?()
        task.cancel()
    }

    /// The answer with what its body holds once it has ended, `limit` bytes have arrived, or `deadline` has passed
    /// (or the caller was cancelled); the exchange is then cancelled, so the rest is never read.
    func keptResponse(_ head: HTTPResponseHead, task: HTTPClient.Task<Void>, within deadline: Duration) async
        -> HTTPClientResponse
    {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await self.bodyKept.futureResult.get() }
            group.addTask { try? await Task.sleep(for: deadline) }
            await group.next()
            // Ends the other child: the body's promise completes once the exchange stops; the sleep is cancelled.
            self.stop(task)
            group.cancelAll()
        }
        let body = (try? await eventLoop.submit { self.keptBytes }.get()) ?? ByteBuffer()
        return HTTPClientResponse(version: head.version, status: head.status, headers: head.headers, body: .bytes(body))
    }

    /// Fails the head unless it was completed already; whether it did.
    private func failHead(_ error: any Error) -> Bool {
        guard !headDone else { return false }
        headDone = true
        head.fail(error)
        return true
    }

    /// The exchange is over (answered, failed or cancelled): a head still awaited fails with the exchange's own
    /// error (a refused connection, a TLS failure, a cancellation), so the message and hint say what happened.
    private func ended(_ result: Result<Void, any Error>) {
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

    private var streams: Bool { writer != nil && answered?.status == .ok }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        answered = head
        if !headDone {
            headDone = true
            self.head.succeed(head)
        }
        if head.status.code >= 300 { abandonBody?() }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard streams, let writer else {
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
