import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PierModel

/// The HTTP clients pier shares across registries: one verifying TLS (with `--ca-file` added), one for hosts named
/// insecure. Redirects are never followed by the HTTP client; `RegistryClient` follows them itself so it can drop
/// `Authorization` across origins and refuse https→http.
public final class RegistryTransport: Sendable {
    let verifying: HTTPClient
    let unverified: HTTPClient

    public init(caFile: String?, concurrency: Int, readTimeout: Duration = .seconds(120)) throws(PierError) {
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
                timeout: .init(connect: .seconds(15), read: read, write: read))
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency * 2))
            // Fail a connection at once (refused, TLS verification): pier retries at its own level with backoff,
            // and a certificate problem does not get better by retrying until the deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.httpVersion = .automatic
            return configuration
        }
        verifying = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls))
        unverified = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(insecureTLS))
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

extension TimeAmount {
    /// The same span in NIO's unit, saturating instead of trapping for spans beyond Int64 nanoseconds.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        self = .nanoseconds(overflow || overflow2 ? (seconds < 0 ? .min : .max) : total)
    }
}
