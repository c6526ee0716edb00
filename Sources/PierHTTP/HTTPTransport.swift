import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PierModel

/// The HTTP clients pier shares across registries and hosted-service APIs: one verifying TLS (with `--ca-file`
/// added), one for hosts named insecure. Redirects are never followed by the HTTP client; `RegistryClient` follows
/// them itself so it can drop `Authorization` across origins and refuse https→http.
public final class HTTPTransport: Sendable {
    /// Verifies certificates against the system roots and `--ca-file`.
    package let verifying: HTTPClient
    /// Skips verification: only for hosts named with `--insecure-registry`.
    package let unverified: HTTPClient
    /// Sent as `User-Agent` on every request.
    package let userAgent: String

    /// Time to establish a connection (TCP and TLS): a registry that does not accept within this is down or
    /// filtered, and the retry policy decides what comes next.
    public static let connectTimeout: Duration = .seconds(15)
    /// Idle pooled connections are closed after this, before common front ends close them on their side (nginx's
    /// `keepalive_timeout` is 75 s by default), so pier rarely sends on a connection the server is closing.
    public static let idleConnectionTimeout: Duration = .seconds(60)
    /// Pooled connections per host: at least this many, else twice the requests in flight, so a connection still
    /// being drained (an error body, a relayed download) does not hold up the next request.
    public static let minimumConnectionsPerHost = 8

    /// The idle timeout when the caller names none (`--timeout` sets it): two minutes without a byte is a stalled
    /// connection, not a slow one.
    public static let defaultReadTimeout: Duration = .seconds(120)

    public init(
        caFile: String?, concurrency: Int, readTimeout: Duration = defaultReadTimeout, userAgent: String = "pier/0.1"
    ) throws(PierError) {
        let read = TimeAmount(readTimeout)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw PierError(.usage, operation: "load CA file", message: "cannot read \(caFile)")
            }
            tls.additionalTrustRoots = [.file(caFile)]
        }
        var insecureTLS = TLSConfiguration.makeClientConfiguration()
        insecureTLS.certificateVerification = .none
        func configuration(_ tls: TLSConfiguration) -> HTTPClient.Configuration {
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: TimeAmount(Self.connectTimeout), read: read, write: read))
            configuration.connectionPool = .init(
                idleTimeout: TimeAmount(Self.idleConnectionTimeout),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(Self.minimumConnectionsPerHost, concurrency * 2))
            // Fail a connection at once (refused, TLS verification): pier retries at its own level with backoff,
            // and a certificate problem does not get better by retrying until the deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.httpVersion = .automatic
            return configuration
        }
        verifying = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls))
        unverified = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(insecureTLS))
        self.userAgent = userAgent
    }

    /// A transport dropped without `shutdown()` (an error path) still closes its clients: the detached task keeps
    /// them alive until they are shut down, as async-http-client requires.
    deinit {
        let clients = [verifying, unverified]
        Task.detached {
            for client in clients { try? await client.shutdown() }
        }
    }

    /// Closes connections. Call once, when all work is done.
    public func shutdown() async {
        try? await verifying.shutdown()
        try? await unverified.shutdown()
    }
}
