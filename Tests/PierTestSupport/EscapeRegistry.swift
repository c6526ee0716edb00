import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A registry whose every answer but `/v2/` is a 404 whose error text carries terminal control sequences: an OSC
/// window title, a screen clear, a C1 CSI, a carriage return and a bidirectional override.
public final class EscapeRegistry: Sendable {
    /// The message the registry sends, as decoded JSON (the body escapes it as JSON requires).
    public static let message = "gone\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m\rforged\u{202E}txt"

    let server: TestServer
    public var host: String { "127.0.0.1:\(server.port)" }

    public init() async throws {
        let router = Router()
        let body = try JSONSerialization.data(withJSONObject: [
            "errors": [["code": "MANIFEST_UNKNOWN", "message": Self.message]]
        ])
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            if request.uri.path == "/v2/" { return Response(status: .ok) }
            return Response(
                status: .notFound, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        for method in [HTTPRequest.Method.get, .head] { router.on("/**", method: method, use: handler) }
        server = try await TestServer(router: router)
    }

    public func stop() { server.stop() }
    /// Stops the server gracefully and waits until it has.
    public func shutdown() async { await server.shutdown() }
}
