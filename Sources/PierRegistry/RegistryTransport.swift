import PierHTTP

/// The shared HTTP transport, by the name the distribution client's callers know it: the type lives in `PierHTTP`,
/// beneath the registry client and the hosted-service APIs alike.
public typealias RegistryTransport = HTTPTransport
