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
/// process, two per refused blob (`anUploadAnsweredBeforeItsBodyIsReadReportsTheStatus`). Here pier ends the body
/// itself when such an answer comes, when the exchange is cancelled and when it is over (`ExchangeDelegate`), which
/// also completes the wait async-http-client would have dropped.
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
        let delegate = ExchangeDelegate(limit: limit, eventLoop: eventLoop, abandonBody: { feed.stop() })
        let (task, head) = try await delegate.start(
            outgoing, on: client, headDeadline: headDeadline, whenEnded: { _ in feed.stop() })
        return await delegate.keptResponse(head, task: task, within: bufferedDeadline)
    }

    /// The task that feeds one exchange's body, and its wait for async-http-client to take each part.
    private final class Feed: Sendable {
        private struct State {
            /// Set once the body is abandoned or the exchange is over.
            var stopped = false
            /// The loop's wait for the part it gave last.
            var waiting: EventLoopPromise<Void>?
            /// The body's outcome, as async-http-client sees it.
            var outcome: EventLoopPromise<Void>?
            var feeder: Task<Void, Never>?
        }
        private let state = NIOLockedValueBox(State())

        /// Hands `body` to `writer` part by part, each once the last has been taken, until the body ends or the
        /// feed is stopped.
        func send(_ body: Body, to writer: HTTPClient.Body.StreamWriter, on loop: any EventLoop)
            -> EventLoopFuture<Void>
        {
            let outcome = loop.makePromise(of: Void.self)
            let feeder = Task {
                do {
                    var parts = body.makeAsyncIterator()
                    while let part = try await parts.next() {
                        try await self.taken(writer.write(.byteBuffer(part)), on: loop).get()
                    }
                    outcome.succeed()
                } catch {
                    outcome.fail(error)
                }
            }
            let stopped = state.withLockedValue { state in
                state.outcome = outcome
                state.feeder = feeder
                return state.stopped
            }
            if stopped { stop() }
            return outcome.futureResult
        }

        /// Ends the body with an error (a no-op once it has ended) and the task that feeds it: a part waiting to be
        /// taken never will be, and a read waiting for a pooled buffer or a slower upload stops waiting.
        func stop() {
            let (waiting, outcome, feeder) = state.withLockedValue { state in
                state.stopped = true
                defer { state.waiting = nil }
                return (state.waiting, state.outcome, state.feeder)
            }
            waiting?.fail(HTTPClientError.cancelled)
            outcome?.fail(HTTPClientError.cancelled)
            feeder?.cancel()
        }

        /// Completes when async-http-client has taken the part, or fails once the feed is stopped.
        private func taken(_ write: EventLoopFuture<Void>, on loop: any EventLoop) -> EventLoopFuture<Void> {
            let promise = loop.makePromise(of: Void.self)
            let stopped = state.withLockedValue { state in
                if !state.stopped { state.waiting = promise }
                return state.stopped
            }
            if stopped {
                promise.fail(HTTPClientError.cancelled)
                return promise.futureResult
            }
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
