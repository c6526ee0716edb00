import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Runs a Hummingbird router on 127.0.0.1 and an ephemeral port (or on a UNIX socket) until `stop()`.
///
/// The server is stopped gracefully, never by cancelling the task that runs it: a connection accepted but not yet
/// handed to the server's accept loop when that task is cancelled is never closed, and NIO traps on it ("Deinited
/// NIOAsyncWriter without calling finish()", swift-nio#3481). Graceful shutdown closes the listening socket, hands
/// every connection already accepted to its handler, lets requests in flight finish and closes idle connections.
/// That is why this runs HummingbirdCore's `Server` itself instead of `Application.runService()`: the server's
/// `shutdownGracefully()` is the way to ask for that from a test without signals.
public final class TestServer: Sendable {
    public let port: Int
    let server: Server<HTTP1Channel>
    let running: Task<Void, Never>

    public init(router: Router<BasicRequestContext>, address: BindAddress = .hostname("127.0.0.1", port: 0))
        async throws
    {
        var logger = Logger(label: "pier-test-server")
        logger.logLevel = .critical
        let responder = router.buildResponder()
        let serverLogger = logger
        let channel = HTTP1Channel(responder: {
            (request: Request, writer: consuming ResponseWriter, channel: any Channel) in
            let context = BasicRequestContext(source: .init(channel: channel, logger: serverLogger))
            let response: Response
            do { response = try await responder.respond(to: request, context: context) } catch {
                response = Response(status: .internalServerError)
            }
            try await writer.write(response: response.head, body: response.body)
        })
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let server = Server(
            childChannelSetup: channel, configuration: ServerConfiguration(address: address),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, eventLoopGroup: NIOSingletons.posixEventLoopGroup, logger: logger)
        self.server = server
        running = Task {
            do { try await server.run() } catch {}
            continuation.finish()
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw TestServerError(message: "the test server did not start on \(address)")
        }
        self.port = port
    }

    /// Starts a graceful shutdown and returns at once.
    public func stop() {
        let server = self.server
        Task { try? await server.shutdownGracefully() }
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    public func shutdown() async {
        try? await server.shutdownGracefully()
        await running.value
    }

    deinit { stop() }
}

/// A test server that could not start.
public struct TestServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension HTTPField.Name {
    public static let dockerContentDigest = HTTPField.Name("Docker-Content-Digest")!
    public static let ociChunkMinLength = HTTPField.Name("OCI-Chunk-Min-Length")!
    public static let range = HTTPField.Name("Range")!
}
