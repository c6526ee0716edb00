import Foundation
import Logging
import PierHTTP
import PierModel

/// How pier talks to registries: which hosts may use plain HTTP, which CA to trust, how much to do at once,
/// how to retry, and whose credentials to present.
public struct RegistryOptions: Sendable {
    /// Hosts (`host` or `host:port`) allowed plain HTTP and unverified TLS, besides loopback hosts
    /// (`--insecure-registry`, `PIER_INSECURE_REGISTRIES`).
    public var insecureHosts: Set<String>
    /// A PEM file of extra CA certificates to trust (`--ca-file`).
    public var caFile: String?
    /// Requests in flight per registry (default 4, as go-containerregistry and regclient).
    public var concurrency: Int
    /// Hosts given their own CA (pier.yml `registries[].ca_file`), by `host:port` as written: trusted for that
    /// registry only, beside `caFile`.
    public var caFileByHost: [String: String] = [:]
    /// Hosts given their own limit (pier.yml `registries[].concurrency`), by normalised host.
    public var concurrencyByHost: [String: Int] = [:]
    /// Requests in flight across the run, every registry and hosted API together (`--max-requests`); each request
    /// also holds its registry's slot.
    public var maxRequests = HTTPTransport.defaultMaxRequests

    /// Requests in flight to `registry`.
    public func concurrency(for registry: String) -> Int {
        concurrencyByHost[DockerConfig.normalizedHost(registry)] ?? concurrency
    }

    /// The most requests in flight per registry `--concurrency` and pier.yml may ask for: registries throttle far
    /// below this (Docker Hub and GHCR answer 429 beyond a few dozen), and each request holds body buffers.
    public static let maximumConcurrency = 64

    /// `value` when it is 1 to `maximumConcurrency`, else a usage error naming where it came from.
    public static func checkedConcurrency(_ value: Int, from origin: String) throws(PierError) -> Int {
        try checked(
            value, upTo: maximumConcurrency, from: origin, hint: "requests in flight per registry; the default is 4")
    }

    /// The most requests in flight across a run `--max-requests` and pier.yml may ask for: four registries at
    /// the highest per-registry limit, each request holding a connection and its body buffers.
    public static let maximumRequests = 4 * maximumConcurrency

    /// `value` when it is 1 to `maximumRequests`, else a usage error naming where it came from.
    public static func checkedMaxRequests(_ value: Int, from origin: String) throws(PierError) -> Int {
        try checked(
            value, upTo: maximumRequests, from: origin,
            hint: "requests in flight across all registries and APIs; the default is 4 × --concurrency")
    }

    /// `value` when it is 1 to `maximum`, else a usage error naming where it came from.
    static func checked(_ value: Int, upTo maximum: Int, from origin: String, hint: String) throws(PierError) -> Int {
        guard (1...maximum).contains(value) else {
            throw PierError(
                .usage, operation: "read options", message: "\(origin) \(value) is not between 1 and \(maximum)",
                hint: hint)
        }
        return value
    }

    public var retry: RetryPolicy
    /// How long a request may wait for the next byte from, or the next chance to write to, a registry before it fails and is retried
    /// (`--timeout`, `PIER_TIMEOUT`; default 120 s). A stalled connection costs this much, not hours.
    public var readTimeout: Duration
    public var credentials: CredentialChain
    public var userAgent: String
    public var logger: Logger

    public init(
        insecureHosts: Set<String> = [], caFile: String? = nil, concurrency: Int = 4,
        retry: RetryPolicy = RetryPolicy(),
        readTimeout: Duration = .seconds(120), credentials: CredentialChain, userAgent: String = "pier/0.1",
        logger: Logger = Logger(label: "pier")
    ) {
        self.insecureHosts = insecureHosts
        self.caFile = caFile
        self.concurrency = max(1, concurrency)
        self.retry = retry
        self.readTimeout = readTimeout
        self.credentials = credentials
        self.userAgent = userAgent
        self.logger = logger
    }

    /// How many idle timeouts a buffered exchange may take in all. Bodies pier holds in memory are small (a manifest
    /// is at most 4 MiB, a tag page 16 MiB): one that has not arrived after three idle timeouts (6 minutes by
    /// default) is being trickled, and an idle timeout alone never fires on a server sending a byte a second.
    public static let bufferedExchangeDeadlineFactor = 3

    /// The total deadline of a buffered exchange, applied twice: once until the response head, once for the body
    /// (manifests, tokens, tag lists, API answers, error bodies). `readTimeout × bufferedExchangeDeadlineFactor`.
    public var bufferedExchangeDeadline: Duration { readTimeout * Self.bufferedExchangeDeadlineFactor }

    /// Loopback hosts and hosts named insecure may fall back to plain HTTP (as docker does).
    public func allowsPlainHTTP(_ registry: String) -> Bool {
        ImageReference.isLoopback(host: registry) || isNamedInsecure(registry)
    }

    /// Hosts named insecure also skip certificate verification. The name is matched as `host:port` or `host`,
    /// and only that host: a token realm or blob store on another host is verified as usual.
    public func isNamedInsecure(_ registry: String) -> Bool {
        insecureHosts.contains(registry) || insecureHosts.contains(ImageReference.hostName(of: registry))
    }
}
