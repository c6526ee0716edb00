import Foundation

/// URLs as registries and APIs send them: opaque strings, resolved and extended without being rebuilt
/// (distribution-spec §Push: a `Location` is used as given, query and all).
package enum URLText {
    /// Resolves a `Location` or `Link` target against the URL it answered: relative (GHCR) or absolute, query kept
    /// as is. A target that starts with a scheme is absolute (RFC 3986 §4.2: a relative reference cannot) and is
    /// returned as sent, whatever its scheme or port: callers refuse what has no origin (`HTTPOrigin`).
    package static func resolve(_ location: String, against base: String) -> String {
        if HTTPOrigin.scheme(of: location) != "none" { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
            return origin(of: base) + (location.hasPrefix("/") ? location : "/" + location)
        }
        return resolved.absoluteString
    }

    /// `scheme://host[:port]` of `url` as written (no default ports filled in).
    package static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        return "\(components.scheme ?? "")://\(components.host ?? "")\(components.port.map { ":\($0)" } ?? "")"
    }

    /// For logs: the URL without its query (upload state and signed URLs carry tokens there).
    package static func redacted(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        return String(url[..<question]) + "?…"
    }

    /// Appends a query parameter to an opaque URL, with `?` or `&` as its query needs.
    package static func appending(query item: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + item
    }
}
