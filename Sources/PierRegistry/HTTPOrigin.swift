import Foundation

/// The origin (RFC 6454 §4: scheme, host, port) of an `http` or `https` URL, parsed with `URLComponents`.
///
/// pier follows only http and https URLs (realms, redirects, upload `Location`s): any other scheme
/// (`http+unix://`, `file:`, …) has no origin here, so it cannot be followed by mistake. Default ports are
/// filled in, so `https://a` and `https://a:443` are one origin.
struct HTTPOrigin: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lowercased.
    let scheme: String
    /// The host, lowercased, IPv6 literals without brackets.
    let host: String
    let port: Int

    /// Nil when `url` is not an absolute http or https URL with a host and a port in 1...65535.
    init?(_ url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    var isHTTPS: Bool { scheme == "https" }

    /// `host:port` as registries are named (`[::1]:5000`), for `--insecure-registry` and loopback checks.
    var authority: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    var description: String { "\(scheme)://\(authority)" }

    /// The scheme of `url` as written, for error messages about URLs that have no origin here.
    static func scheme(of url: String) -> String { URLComponents(string: url)?.scheme ?? "none" }
}
