import AsyncHTTPClient
import NIOCore

extension HTTPClientResponse.Body {
    /// Reads the whole body into memory, at most `limit` bytes, within `deadline`.
    ///
    /// async-http-client's request deadline ends when the response head arrives, and its read timeout is an idle
    /// timeout: a server trickling one byte a second passes both for ever. Every body pier buffers (manifests,
    /// tokens, tag lists, API answers, error bodies) is read under this total deadline as well; cancelling the read
    /// cancels the request.
    package func collect(upTo limit: Int, within deadline: Duration) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await self.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                throw BodyDeadlineExceeded(deadline: deadline)
            }
            return body
        }
    }
}
