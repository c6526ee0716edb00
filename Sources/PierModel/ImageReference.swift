/// A registry image reference, parsed with docker's grammar (distribution/reference `reference.go`, `normalize.go`).
///
/// `nginx` is `docker.io/library/nginx:latest`; `localhost:5000/app@sha256:…` has a digest and no tag; a
/// reference may carry both. `registry` keeps docker's canonical name (`docker.io`); `endpointHost` is the host the
/// registry API is actually served from (`registry-1.docker.io`).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host with optional port: `ghcr.io`, `127.0.0.1:5000`, `docker.io`.
    public var registry: String
    /// Repository path: `library/nginx`, `org/app`.
    public var repository: String
    /// The tag as written, if one was written.
    public var tag: String?
    public var digest: Digest?

    public static let dockerHub = "docker.io"
    public static let dockerHubEndpoint = "registry-1.docker.io"
    public static let defaultTag = "latest"

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// The tag, or `latest` when neither tag nor digest was given (docker's default).
    public var tagOrDefault: String? { tag ?? (digest == nil ? Self.defaultTag : nil) }

    /// The reference to put in a manifest URL: the digest when there is one (it pins content), else the tag.
    public var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }

    /// The host serving the registry API.
    public var endpointHost: String { registry == Self.dockerHub ? Self.dockerHubEndpoint : registry }

    /// `registry/repository`, the repository's full name.
    public var repositoryName: String { "\(registry)/\(repository)" }

    /// The full canonical form: `docker.io/library/nginx:latest`.
    public var description: String {
        var text = repositoryName
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        if tag == nil, digest == nil { text += ":\(Self.defaultTag)" }
        return text
    }

    public func with(tag: String?, digest: Digest? = nil) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// Parses a reference the way `docker pull` does.
    public init(parsing text: String) throws(PierError) {
        func fail(_ why: String, hint: String? = nil) -> PierError {
            PierError(
                .usage, operation: "parse reference", message: "invalid reference \"\(text)\": \(why)", hint: hint)
        }
        guard !text.isEmpty else { throw fail("empty") }
        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            do { digest = try Digest(String(remainder[remainder.index(after: at)...])) } catch {
                throw fail(error.message)
            }
            remainder = remainder[..<at]
        }
        var tag: String?
        // A tag follows the last ':' that comes after the last '/', so `host:5000/app` has no tag.
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            let candidate = String(remainder[remainder.index(after: colon)...])
            guard Self.isValidTag(candidate) else {
                throw fail(
                    "bad tag \"\(candidate)\"",
                    hint: "a tag is 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'")
            }
            tag = candidate
            remainder = remainder[..<colon]
        }
        let name = String(remainder)
        // splitDockerDomain: the first component is a registry when it has '.' or ':' or is "localhost".
        var registry = Self.dockerHub
        var path = name
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                registry = first
                path = String(name[name.index(after: slash)...])
            }
        }
        if registry == "index.docker.io" || registry == Self.dockerHubEndpoint { registry = Self.dockerHub }
        do { try Self.checkRegistryHost(registry) } catch {
            throw fail("bad registry host \"\(registry)\"", hint: error.hint)
        }
        if registry == Self.dockerHub, !path.contains("/") { path = "library/" + path }
        if path.lowercased() != path, path.contains(where: \.isUppercase) {
            throw fail("repository name must be lowercase")
        }
        guard Self.isValidRepository(path) else {
            throw fail(
                "bad repository name \"\(path)\"",
                hint: "path components are lowercase letters and digits, separated by '.', '_', '__' or '-'")
        }
        guard registry.utf8.count + 1 + path.utf8.count <= 255 else {
            throw fail("repository name longer than 255 characters")
        }
        self.init(registry: registry, repository: path, tag: tag, digest: digest)
    }

    /// Checks a registry host given on its own (`pier login HOST`) with the grammar references use.
    public static func checkRegistryHost(_ host: String) throws(PierError) {
        guard isValidRegistry(host) else {
            throw PierError(
                .usage, operation: "parse registry host", message: "invalid registry host \"\(host)\"",
                hint: "write host[:port] or [ipv6][:port], with a port from 1 to 65535")
        }
    }

    // MARK: Grammar (distribution/reference regexp.go)

    /// `[\w][\w.-]{0,127}`
    public static func isValidTag(_ tag: String) -> Bool { isTagShaped(tag, upTo: 128) }

    /// The longest tag a registry is known to list: ECR takes tags of up to 300 characters (its API's `ImageTag`),
    /// past the distribution spec's 128.
    public static let longestListedTag = 300

    /// A tag as a registry may list it: the spec's characters (safe in a URL path, no `/`, `?`, `%` or `..`), up to
    /// `longestListedTag` long.
    public static func isListableTag(_ tag: String) -> Bool { isTagShaped(tag, upTo: longestListedTag) }

    static func isTagShaped(_ tag: String, upTo length: Int) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...length).contains(bytes.count), isWord(bytes[0]) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// path-component (`/` path-component)*, with path-component `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
    public static func isValidRepository(_ path: String) -> Bool {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        return !components.isEmpty && components.allSatisfy { isValidPathComponent(Array($0.utf8)) }
    }

    static func isValidPathComponent(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlnumLower(first), isAlnumLower(last) else {
            return false
        }
        var index = 0
        while index < bytes.count {
            if isAlnumLower(bytes[index]) {
                index += 1
                continue
            }
            // A separator run: ".", "_", "__", or one or more "-".
            var run = index
            while run < bytes.count, !isAlnumLower(bytes[run]) { run += 1 }
            let separator = String(decoding: bytes[index..<run], as: UTF8.self)
            guard separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" })
            else {
                return false
            }
            index = run
        }
        return true
    }

    /// domain-component (`.` domain-component)* [`:` port], or a bracketed IPv6 address with optional port.
    static func isValidRegistry(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let address = name[name.index(after: name.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return false }
            name = name[name.index(after: close)...]
            if name.isEmpty { return true }
            guard name.hasPrefix(":") else { return false }
            return isValidPort(name.dropFirst())
        }
        if let colon = name.lastIndex(of: ":") {
            guard isValidPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        let components = name.split(separator: ".", omittingEmptySubsequences: false)
        return components.allSatisfy { component in
            let bytes = Array(component.utf8)
            guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
            return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// A TCP port, 1 to 65535. docker's grammar takes any digits; a larger number names no port and would reach the
    /// connection code as an out-of-range value.
    static func isValidPort(_ text: Substring) -> Bool {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let port = Int(text)
        else {
            return false
        }
        return (1...65535).contains(port)
    }

    private static func isAlnumLower(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
    private static func isAlnum(_ b: UInt8) -> Bool { isAlnumLower(b) || (b >= 65 && b <= 90) }
    private static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == UInt8(ascii: "_") }
}

extension ImageReference {
    /// True for hosts docker treats as insecure by default: 127.0.0.0/8, `localhost`, `::1`.
    public static func isLoopback(host registry: String) -> Bool {
        let host = hostName(of: registry)
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The host part of `host[:port]` or `[v6]:port`.
    public static func hostName(of registry: String) -> String {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            return String(registry[registry.index(after: registry.startIndex)..<close])
        }
        if let colon = registry.lastIndex(of: ":") { return String(registry[..<colon]) }
        return registry
    }
}
