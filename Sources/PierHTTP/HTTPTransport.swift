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
    /// Verifying clients that also trust one host's own CA (pier.yml `registries[].ca_file`), by `host:port` or
    /// `host`: a private CA given for one registry is trusted for that registry only.
    let verifyingByHost: [String: HTTPClient]
    /// The run's cap on requests in flight, shared by every registry client and hosted-API client on this transport.
    public let requestLimit: RequestLimit

    /// Requests in flight across the run when the caller names no limit: four registries at the default four each.
    public static let defaultMaxRequests = 16

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
        caFile: String?, caFileByHost: [String: String] = [:], concurrency: Int,
        maxRequests: Int = defaultMaxRequests, readTimeout: Duration = defaultReadTimeout,
        userAgent: String = "pier/0.1"
    ) throws(PierError) {
        let read = TimeAmount(readTimeout)
        func trusting(_ files: [String]) throws(PierError) -> TLSConfiguration {
            var tls = TLSConfiguration.makeClientConfiguration()
            for file in files {
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw PierError(.usage, operation: "load CA file", message: "cannot read \(file)")
                }
            }
            tls.additionalTrustRoots = files.map { .file($0) }
            return tls
        }
        let tls = try trusting(caFile.map { [$0] } ?? [])
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
        var byFile: [String: HTTPClient] = [:]
        var byHost: [String: HTTPClient] = [:]
        for (host, file) in caFileByHost {
            if byFile[file] == nil {
                let files = (caFile.map { [$0] } ?? []) + [file]
                byFile[file] = HTTPClient(
                    eventLoopGroupProvider: .singleton, configuration: configuration(try trusting(files)))
            }
            byHost[host] = byFile[file]
        }
        verifyingByHost = byHost
        requestLimit = RequestLimit(limit: maxRequests)
        self.userAgent = userAgent
    }

    /// A transport dropped without `shutdown()` (an error path) still closes its clients: the detached task keeps
    /// them alive until they are shut down, as async-http-client requires.
    deinit {
        let clients = [verifying, unverified] + Array(verifyingByHost.values)
        Task.detached {
            for client in clients { try? await client.shutdown() }
        }
    }

    /// Closes connections. Call once, when all work is done.
    public func shutdown() async {
        try? await verifying.shutdown()
        try? await unverified.shutdown()
        var closed = Set<ObjectIdentifier>()
        for client in verifyingByHost.values where closed.insert(ObjectIdentifier(client)).inserted {
            try? await client.shutdown()
        }
    }

    /// The verifying client for `authority` (`host:port`): the one trusting that host's own CA when it has one.
    package func verifying(for authority: String) -> HTTPClient {
        verifyingByHost[authority] ?? verifyingByHost[ImageReference.hostName(of: authority)] ?? verifying
    }
}
