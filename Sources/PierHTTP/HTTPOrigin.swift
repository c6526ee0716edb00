import Foundation

/// The origin (RFC 6454 §4: scheme, host, port) of an `http` or `https` URL, parsed with `URLComponents`.
///
/// pier follows only http and https URLs (realms, redirects, upload `Location`s): any other scheme
/// (`http+unix://`, `file:`, …) has no origin here, so it cannot be followed by mistake. Default ports are
/// filled in, so `https://a` and `https://a:443` are one origin. A port is a number from 1 to 65535
/// (RFC 3986 §3.2.3 allows any digits; TCP has 16 bits of them).
package struct HTTPOrigin: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lowercased.
    package let scheme: String
    /// The host, lowercased, IPv6 literals without brackets.
    package let host: String
    package let port: Int

    /// Why a URL has no origin here.
    package enum Refusal: Error, Equatable, CustomStringConvertible {
        /// A scheme other than http and https (`http+unix`, `file`), or none (`none`).
        case scheme(String)
        /// An authority without a host (`http:///x`), or a URL `URLComponents` cannot parse.
        case host
        /// A port that is not a number from 1 to 65535, as written (at most `maximumQuotedPort` characters).
        case port(String)

        /// The characters of a refused port quoted in messages: enough for any number people mistype.
        static let maximumQuotedPort = 24

        /// Completes "… is …" / "refused … to …": `a http+unix: URL`, `a URL with port 99999`.
        package var description: String {
            switch self {
            case .scheme(let scheme): "a \(scheme): URL; pier follows only http and https URLs"
            case .host: "a URL without a host"
            case .port(let port): "a URL with port \(port); a port is a number from 1 to 65535"
            }
        }
    }

    /// Nil when `url` is not an absolute http or https URL with a host and a port in 1...65535.
    package init?(_ url: String) {
        guard case .success(let origin) = Self.parse(url) else { return nil }
        self = origin
    }

    private init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The origin of `url`, or why it has none.
    package static func parse(_ url: String) -> Result<HTTPOrigin, Refusal> {
        let scheme = self.scheme(of: url).lowercased()
        guard scheme == "http" || scheme == "https" else { return .failure(.scheme(scheme)) }
        // The port is checked as written before `URLComponents` sees it: what it does with a port past 16 bits
        // (or past Int) differs between Foundation versions.
        var port = scheme == "https" ? 443 : 80
        if let written = portText(of: url), !written.isEmpty {
            guard written.count <= 5, written.allSatisfy(\.isASCIIDigit), let number = Int(written),
                (1...65_535).contains(number)
            else { return .failure(.port(String(written.prefix(Refusal.maximumQuotedPort)))) }
            port = number
        }
        guard let components = URLComponents(string: url), var host = components.host?.lowercased(), !host.isEmpty
        else { return .failure(.host) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return .success(HTTPOrigin(scheme: scheme, host: host, port: port))
    }

    package var isHTTPS: Bool { scheme == "https" }

    /// `host:port` as registries are named (`[::1]:5000`), for `--insecure-registry` and loopback checks.
    package var authority: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    package var description: String { "\(scheme)://\(authority)" }

    /// The scheme of `url` as written (RFC 3986 §3.1: a letter, then letters, digits, `+`, `-`, `.`, up to the first
    /// `:`), or `none`, for error messages about URLs that have no origin here.
    package static func scheme(of url: String) -> String {
        guard let colon = url.firstIndex(of: ":") else { return "none" }
        let scheme = url[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return "none" }
        return String(scheme)
    }

    /// The port of `url`'s authority as written (empty for `host:`), or nil when it names none.
    static func portText(of url: String) -> Substring? {
        guard let start = url.range(of: "://")?.upperBound else { return nil }
        var authority = url[start...].prefix { !"/?#".contains($0) }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let rest = authority[authority.index(after: close)...]
            return rest.hasPrefix(":") ? rest.dropFirst() : nil
        }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        return authority[authority.index(after: colon)...]
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
