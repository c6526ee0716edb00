import PierHTTP
import PierModel

/// One `RegistryClient` per registry host for a run, sharing one HTTP transport, so pings, tokens and connection
/// pools are reused by every operation that touches the same registry.
public actor RegistryPool {
    public nonisolated let options: RegistryOptions
    public nonisolated let transport: RegistryTransport
    private var clients: [String: RegistryClient] = [:]

    public init(options: RegistryOptions) throws(PierError) {
        self.options = options
        self.transport = try RegistryTransport(
            caFile: options.caFile, caFileByHost: options.caFileByHost, concurrency: options.concurrency,
            maxRequests: options.maxRequests, readTimeout: options.readTimeout,
            userAgent: options.userAgent)
    }

    public func client(for registry: String) -> RegistryClient {
        if let client = clients[registry] { return client }
        let client = RegistryClient(registry: registry, options: options, transport: transport)
        clients[registry] = client
        return client
    }

    public func shutdown() async { await transport.shutdown() }
}
