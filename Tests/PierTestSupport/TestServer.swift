import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Runs a Hummingbird application on 127.0.0.1 and an ephemeral port (or on a UNIX socket) until `stop()`.
public final class TestServer: Sendable {
    public let port: Int
    let task: Task<Void, any Error>

    public init(router: Router<BasicRequestContext>, address: BindAddress = .hostname("127.0.0.1", port: 0)) async throws {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "pier-test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: address),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        task = Task { try await app.runService() }
        var iterator = stream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    public func stop() { task.cancel() }
    deinit { task.cancel() }
}

extension HTTPField.Name {
    public static let dockerContentDigest = HTTPField.Name("Docker-Content-Digest")!
    public static let ociChunkMinLength = HTTPField.Name("OCI-Chunk-Min-Length")!
    public static let range = HTTPField.Name("Range")!
}
