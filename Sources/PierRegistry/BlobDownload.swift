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
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let delegate = ExchangeDelegate(
            writer: writer, size: size, progress: progress, limit: limit, eventLoop: client.eventLoopGroup.next())
        let (task, head) = try await delegate.start(outgoing, on: client, headDeadline: headDeadline)
        guard head.status == .ok else {
            return await delegate.keptResponse(head, task: task, within: bufferedDeadline)
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
}
