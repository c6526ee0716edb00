import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PierModel

/// A request body streamed from an async sequence of buffers (a file's `FileByteStream`, a download's
/// `PooledByteStream`), through async-http-client's delegate API so pier, not the client, owns the loop that feeds
/// it. A registry or proxy may answer before it has read the body (nginx's 413 for a body over
/// `client_max_body_size`); async-http-client then ends the exchange but never resumes a body writer it was holding
/// back, and with its async API that writer, the file it reads and a pooled buffer stayed held for the life of the
/// process, two per refused blob (`anUploadAnsweredBeforeItsBodyIsReadReportsTheStatus`). Here the loop stops when
/// the exchange is over, whatever async-http-client does with its own wait.
struct StreamedUpload<Body: AsyncSequence & Sendable>: Sendable where Body.Element == ByteBuffer {
    let body: Body
    let length: Int64

    /// The `RegistryClient.Request.exchange` of the upload: sends `request` (its URL, method and headers) with
    /// `body`, and returns the answer with at most `limit` bytes of its body, as it stands when that body ends or
    /// `bufferedDeadline` passes.
    func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, headDeadline: TimeAmount, bufferedDeadline: Duration,
        limit: Int
    ) async throws -> HTTPClientResponse {
        let eventLoop = client.eventLoopGroup.next()
        let feed = Feed()
        let outgoing = try HTTPClient.Request(
            url: request.url, method: request.method, headers: request.headers,
            body: .stream(contentLength: length) { [body] writer in feed.send(body, to: writer, on: eventLoop) })
        let delegate = ExchangeDelegate(limit: limit, eventLoop: eventLoop)
        let (task, head) = try await delegate.start(
            outgoing, on: client, headDeadline: headDeadline, whenEnded: { _ in feed.end() })
        return await delegate.keptResponse(head, task: task, within: bufferedDeadline)
    }

    /// The loop that feeds one exchange's body, and its wait for async-http-client to take each part.
    private final class Feed: Sendable {
        private struct State {
            /// Set once the exchange is over.
            var over = false
            /// The loop's wait for the part it gave last.
            var waiting: EventLoopPromise<Void>?
        }
        private let state = NIOLockedValueBox(State())

        /// Hands `body` to `writer` part by part, each once the last has been taken; stops with an error when the
        /// exchange is over first.
        func send(_ body: Body, to writer: HTTPClient.Body.StreamWriter, on loop: any EventLoop)
            -> EventLoopFuture<Void>
        {
            let promise = loop.makePromise(of: Void.self)
            promise.completeWithTask {
                var parts = body.makeAsyncIterator()
                while let part = try await parts.next() {
                    try await self.taken(writer.write(.byteBuffer(part)), on: loop).get()
                }
            }
            return promise.futureResult
        }

        /// The exchange is over: a part still waiting to be taken never will be.
        func end() {
            let waiting = state.withLockedValue { state in
                state.over = true
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.fail(HTTPClientError.requestStreamCancelled)
        }

        /// Completes when async-http-client has taken the part, or fails when the exchange is over first: a request
        /// answered while its body is held back drops the future that would resume it, never completing it.
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
    }
}
