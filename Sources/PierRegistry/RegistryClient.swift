import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierModel

/// The distribution-spec client for one registry host. The only code in pier that speaks HTTP.
///
/// It pings `/v2/` once, learns the auth challenge, attaches Basic or Bearer authorization (tokens cached by
/// realm+service+scope), retries what is safe to retry, bounds requests in flight, and maps failures to `PierError`.
public final class RegistryClient: Sendable {
    /// The registry as people name it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    public let registry: String
    /// Where the API is served (`registry-1.docker.io` for Docker Hub).
    let endpointHost: String
    let options: RegistryOptions
    let transport: RegistryTransport
    let tokens = TokenCache()
    let limiter: AsyncSemaphore
    let session: SessionState

    public init(registry: String, options: RegistryOptions, transport: RegistryTransport) {
        self.registry = registry
        self.endpointHost = registry == ImageReference.dockerHub ? ImageReference.dockerHubEndpoint : registry
        self.options = options
        self.transport = transport
        self.limiter = AsyncSemaphore(limit: options.concurrency)
        self.session = SessionState()
    }

    var logger: Logger { options.logger }

    /// The last rate-limit headers the registry sent (`ratelimit-remaining`, `ratelimit-limit`), if any.
    public func rateLimit() async -> String? { await session.rateLimit }

    /// What the ping learned: the base URL (scheme decided), the challenges, the credential.
    struct Endpoint: Sendable {
        var baseURL: String
        var client: HTTPClient
        var challenges: [AuthChallenge]
        var credential: Credential
    }

    /// Ping result, computed once (single flight).
    actor SessionState {
        private var task: Task<Endpoint, any Error>?
        func endpoint(_ make: @escaping @Sendable () async throws -> Endpoint) async throws -> Endpoint {
            if let task { return try await task.value }
            let task = Task { try await make() }
            self.task = task
            do { return try await task.value } catch {
                self.task = nil  // a failed ping may be tried again
                throw error
            }
        }
        private(set) var rateLimit: String?
        func record(rateLimit: String) { self.rateLimit = rateLimit }
        func update(challenges: [AuthChallenge]) async {
            guard let task, var endpoint = try? await task.value else { return }
            endpoint.challenges = challenges
            self.task = Task { endpoint }
        }
    }

    // MARK: Requests

    /// One request to the registry, described so it can be sent again (retries, re-auth).
    struct Request: Sendable {
        var method: HTTPMethod
        /// `/v2/...` path with query, or an absolute URL (an upload `Location`).
        var target: String
        var headers: HTTPHeaders = [:]
        var body: (@Sendable () -> HTTPClientRequest.Body)?
        /// Token scopes, `repository:NAME:pull[,push]`.
        var scopes: [String]
        /// What pier is doing, for errors: "push blob sha256:…".
        var operation: String
        var repository: String?
        var reference: String?
        /// Statuses that are success for this request; others become errors.
        var accept: Set<Int>
        /// Safe to send again as is (not an upload into a session).
        var retryable = true
        /// Follow redirects (blob GET/HEAD only).
        var followRedirects = false
        var timeout: TimeAmount = .seconds(300)
    }

    /// Sends a request with auth, retries and redirects; returns the response with its body unread.
    /// A status outside `request.accept` is turned into a `PierError` here.
    func send(_ request: Request) async throws(PierError) -> HTTPClientResponse {
        let endpoint = try await endpoint()
        var scopes = request.scopes
        var authHeader = try await authorization(endpoint: endpoint, scopes: scopes, request: request)
        var reauthenticated = false
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPClientResponse
            do {
                response = try await execute(request, endpoint: endpoint, authorization: authHeader)
            } catch let error as PierError {
                throw error
            } catch {
                guard request.retryable, attempt < options.retry.maxAttempts, !Task.isCancelled else {
                    throw networkError(error, request: request)
                }
                logger.debug("retrying after network error", metadata: ["op": "\(request.operation)", "attempt": "\(attempt)"])
                try await pause(options.retry.delay(afterAttempt: attempt, retryAfter: nil))
                continue
            }
            let status = Int(response.status.code)
            if status == 401, !reauthenticated {
                // A token can expire mid-run, or a scope can be too narrow (insufficient_scope): learn the new
                // challenge, widen the scope, fetch again, and send once more.
                reauthenticated = true
                let challenges = AuthChallenge.parse(response.headers["WWW-Authenticate"])
                if !challenges.isEmpty { await session.update(challenges: challenges) }
                if let bearer = challenges.first(where: { $0.scheme == "bearer" }), let extra = bearer.scope {
                    for scope in extra.split(separator: " ").map(String.init) where !scopes.contains(scope) {
                        scopes.append(scope)
                    }
                }
                var refreshed = endpoint
                if !challenges.isEmpty { refreshed.challenges = challenges }
                await invalidateToken(endpoint: refreshed, scopes: scopes)
                let next = try await authorization(endpoint: refreshed, scopes: scopes, request: request)
                if next != nil || authHeader != nil {
                    authHeader = next
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    continue
                }
            }
            if request.accept.contains(status) { return response }
            if request.retryable, RetryPolicy.isRetryable(status: status), attempt < options.retry.maxAttempts {
                let retryAfter = RetryPolicy.parseRetryAfter(response.headers.first(name: "Retry-After"))
                _ = try? await response.body.collect(upTo: 1 << 16)
                logger.debug(
                    "retrying after \(status)", metadata: ["op": "\(request.operation)", "attempt": "\(attempt)"])
                try await pause(options.retry.delay(afterAttempt: attempt, retryAfter: retryAfter))
                continue
            }
            throw await statusError(response, request: request)
        }
    }

    private func pause(_ duration: Duration) async throws(PierError) {
        do { try await Task.sleep(for: duration) } catch {
            throw PierError(.other, operation: "wait before retry", message: "cancelled", registry: registry)
        }
    }

    /// Sends one HTTP exchange, following redirects when the request allows it.
    private func execute(_ request: Request, endpoint: Endpoint, authorization: String?) async throws -> HTTPClientResponse {
        var url = request.target.hasPrefix("/") ? endpoint.baseURL + request.target : request.target
        // Credentials are for the registry's own origin. An upload Location on another host (a blob store) gets
        // none, and a Location that would downgrade https to http is refused.
        let registryOrigin = Self.origin(of: endpoint.baseURL)
        var sendAuthorization = Self.origin(of: url) == registryOrigin ? authorization : nil
        if endpoint.baseURL.hasPrefix("https://"), url.hasPrefix("http://") {
            var error = PierError(
                .network, operation: request.operation, message: "the registry sent pier from https to http (\(Self.redacted(url)))",
                registry: registry, repository: request.repository, reference: request.reference)
            error.isFinal = true
            throw error
        }
        let origin = registryOrigin
        for _ in 0..<6 {
            var http = HTTPClientRequest(url: url)
            http.method = request.method
            http.headers = request.headers
            http.headers.replaceOrAdd(name: "User-Agent", value: options.userAgent)
            if let sendAuthorization { http.headers.replaceOrAdd(name: "Authorization", value: sendAuthorization) }
            if let body = request.body { http.body = body() }
            logger.debug("→ \(request.method.rawValue) \(Self.redacted(url))")
            let prepared = http
            let response = try await limiter.withPermit {
                try await endpoint.client.execute(prepared, timeout: request.timeout)
            }
            logger.debug("← \(response.status.code) \(request.method.rawValue) \(Self.redacted(url))")
            // Docker Hub's pull limits (docker docs, "Usage and limits"): shown in the publish report.
            if let remaining = response.headers.first(name: "ratelimit-remaining") {
                let limit = response.headers.first(name: "ratelimit-limit").map { " of \($0)" } ?? ""
                await session.record(rateLimit: "\(remaining) remaining\(limit)")
            }
            guard request.followRedirects, [301, 302, 303, 307, 308].contains(Int(response.status.code)),
                let location = response.headers.first(name: "Location")
            else { return response }
            _ = try? await response.body.collect(upTo: 1 << 16)
            let next = Self.resolve(location, against: url)
            if url.hasPrefix("https://"), next.hasPrefix("http://") {
                var error = PierError(
                    .network, operation: request.operation, message: "refused a redirect from https to http",
                    registry: registry, repository: request.repository, reference: request.reference,
                    hint: "the registry or its storage backend is misconfigured")
                error.isFinal = true
                throw error
            }
            // Credentials are for the registry only: a blob store on another origin (S3, a CDN) must not see them.
            if Self.origin(of: next) != origin { sendAuthorization = nil }
            url = next
        }
        throw PierError(
            .network, operation: request.operation, message: "too many redirects", registry: registry,
            repository: request.repository, reference: request.reference)
    }

    // MARK: Ping and auth

    func endpoint() async throws(PierError) -> Endpoint {
        do {
            return try await session.endpoint { [self] in try await ping() }
        } catch let error as PierError {
            throw error
        } catch {
            throw networkError(error, request: nil)
        }
    }

    /// `GET /v2/`: decides the scheme and learns the challenge (distribution-spec §Determining support).
    private func ping() async throws -> Endpoint {
        let credential = try options.credentials.credential(for: registry)
        let namedInsecure = options.isNamedInsecure(registry)
        let client = namedInsecure ? transport.unverified : transport.verifying
        var firstError: (any Error)?
        // Where plain HTTP is allowed, ask it first: a TLS ClientHello sent to a plain HTTP server can hang until
        // the server's read timeout, while plain HTTP sent to a TLS server (Go's) is answered 400 at once.
        let schemes = options.allowsPlainHTTP(registry) ? ["http", "https"] : ["https"]
        for scheme in schemes {
            let base = "\(scheme)://\(endpointHost)"
            var request = HTTPClientRequest(url: base + "/v2/")
            request.headers.add(name: "User-Agent", value: options.userAgent)
            do {
                logger.debug("→ GET \(base)/v2/")
                let response = try await client.execute(request, timeout: .seconds(30))
                let body = (try? await response.body.collect(upTo: 1 << 16)).map { Array(buffer: $0) } ?? []
                logger.debug("← \(response.status.code) GET \(base)/v2/")
                let status = Int(response.status.code)
                let challenges = AuthChallenge.parse(response.headers["WWW-Authenticate"])
                if status == 200 || status == 401 {
                    return Endpoint(baseURL: base, client: client, challenges: challenges, credential: credential)
                }
                let error: PierError
                if status == 404 {
                    error = PierError(
                        .notFound, operation: "ping registry", message: "\(base)/v2/ answered 404: not a registry API",
                        registry: registry, status: status)
                } else {
                    error = statusError(
                        response, body: body,
                        request: Request(method: .GET, target: "/v2/", scopes: [], operation: "ping registry", accept: []))
                }
                if scheme == schemes.last { throw error }
                firstError = firstError ?? error
            } catch let error as PierError {
                throw error
            } catch {
                // Report the HTTPS failure (a certificate problem says more than "connection refused on http").
                if scheme == "https" || firstError == nil { firstError = error }
            }
        }
        throw networkError(firstError ?? PierError(.network, operation: "ping", message: "unreachable"), request: nil)
    }

    private func tokenKey(_ challenge: AuthChallenge, scopes: [String]) -> String {
        "\(challenge.realm ?? "")|\(challenge.service ?? "")|\(scopes.sorted().joined(separator: " "))"
    }

    private func invalidateToken(endpoint: Endpoint, scopes: [String]) async {
        guard let bearer = endpoint.challenges.first(where: { $0.scheme == "bearer" }) else { return }
        await tokens.invalidate(key: tokenKey(bearer, scopes: scopes))
    }

    /// The `Authorization` value for these scopes, or nil when the registry asked for none.
    private func authorization(endpoint: Endpoint, scopes: [String], request: Request) async throws(PierError) -> String? {
        if case .bearer(let token) = endpoint.credential { return "Bearer \(token)" }
        if let bearer = endpoint.challenges.first(where: { $0.scheme == "bearer" }) {
            let key = tokenKey(bearer, scopes: scopes)
            do {
                let token = try await tokens.token(key: key) { [self] in
                    try await fetchToken(bearer, scopes: scopes, credential: endpoint.credential, client: endpoint.client)
                }
                return "Bearer \(token)"
            } catch let error as PierError {
                throw error.located(repository: request.repository)
            } catch {
                throw networkError(error, request: request)
            }
        }
        if endpoint.challenges.contains(where: { $0.scheme == "basic" }), case .basic(let user, let password) = endpoint.credential {
            return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        return nil
    }

    private struct TokenAnswer: Decodable {
        var token: String?
        var access_token: String?
        var expires_in: Int?
    }

    /// Fetches a token from the challenge's realm (distribution token.md, oauth.md): GET with Basic credentials sent
    /// up front (else public token servers hand out anonymous pull-only tokens), or an OAuth2 POST with a refresh
    /// token when the credential is an identity token.
    private func fetchToken(
        _ challenge: AuthChallenge, scopes: [String], credential: Credential, client: HTTPClient
    ) async throws -> (String, Duration) {
        guard let realm = challenge.realm, var components = URLComponents(string: realm), components.host != nil else {
            throw PierError(
                .auth, operation: "get token", message: "the registry's Bearer challenge has no usable realm",
                registry: registry)
        }
        var request: HTTPClientRequest
        switch credential {
        case .identityToken(let refresh):
            request = HTTPClientRequest(url: realm)
            request.method = .POST
            var form = URLComponents()
            form.queryItems = [
                URLQueryItem(name: "grant_type", value: "refresh_token"),
                URLQueryItem(name: "refresh_token", value: refresh),
                URLQueryItem(name: "client_id", value: "pier"),
                URLQueryItem(name: "scope", value: scopes.joined(separator: " ")),
            ] + (challenge.service.map { [URLQueryItem(name: "service", value: $0)] } ?? [])
            let body = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        default:
            var items = components.queryItems ?? []
            if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
            items += scopes.map { URLQueryItem(name: "scope", value: $0) }
            items.append(URLQueryItem(name: "client_id", value: "pier"))
            if case .basic(let user, _) = credential { items.append(URLQueryItem(name: "account", value: user)) }
            components.queryItems = items
            request = HTTPClientRequest(url: components.string ?? realm)
            if case .basic(let user, let password) = credential {
                request.headers.add(
                    name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
            }
        }
        request.headers.add(name: "User-Agent", value: options.userAgent)
        logger.debug("→ \(request.method.rawValue) \(Self.redacted(realm)) (token, scope \(scopes.joined(separator: " ")))")
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        logger.debug("← \(response.status.code) token")
        let status = Int(response.status.code)
        guard status == 200 else {
            let details = Self.registryErrors(in: Array(buffer: body))
            throw PierError(
                .auth, operation: "get token", message: status == 401 || status == 403
                    ? "the token server rejected the credentials" : "the token server answered \(status)",
                registry: registry, status: status, registryErrors: details,
                hint: credential == .anonymous ? loginHint : "check the credentials for \(registry)")
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(buffer: body)),
            let token = answer.token ?? answer.access_token, !token.isEmpty
        else {
            throw PierError(.auth, operation: "get token", message: "the token server's answer has no token", registry: registry)
        }
        return (token, .seconds(answer.expires_in ?? 60))
    }

    var loginHint: String { "run 'pier login \(registry)' or set PIER_USERNAME/PIER_PASSWORD" }

    // MARK: Errors

    /// Maps a status answer to a `PierError`, reading the registry's `errors[]` body when there is one.
    func statusError(_ response: HTTPClientResponse, request: Request) async -> PierError {
        let body = (try? await response.body.collect(upTo: 1 << 16)).map { Array(buffer: $0) } ?? []
        return statusError(response, body: body, request: request)
    }

    /// As above, for a response whose body was already read (a body can be read only once).
    func statusError(_ response: HTTPClientResponse, body: [UInt8], request: Request) -> PierError {
        let status = Int(response.status.code)
        let details = Self.registryErrors(in: body)
        let message: String
        if let first = details.first {
            message = "\(first.code) \"\(first.message)\""
        } else {
            message = response.status.reasonPhrase.isEmpty ? "HTTP \(status)" : response.status.reasonPhrase
        }
        var kind: PierError.Kind
        var hint: String?
        switch status {
        case 401:
            kind = .auth
            hint = loginHint
        case 403:
            kind = .auth
            hint = "the credentials for \(registry) lack permission for this; check the token's scopes"
        case 404: kind = .notFound
        case 405:
            kind = .unsupported
            hint = "the registry does not support this operation"
        case 408, 429, 500...599:
            kind = .network
            if status == 429 { hint = "rate limited; try again later" }
        default:
            kind = details.contains(where: { ["DIGEST_INVALID", "SIZE_INVALID"].contains($0.code) }) ? .verification : .other
            if details.contains(where: { $0.code == "MANIFEST_INVALID" || $0.code == "TAG_INVALID" }) { kind = .invalidInput }
            // ECR (TAG_INVALID "… already exists … immutable") and Harbor (412 PRECONDITION "… immutable")
            // refuse to move an immutable tag: a conflict, not bad input.
            if details.contains(where: { $0.message.lowercased().contains("immutable") }) {
                kind = .conflict
                hint = "the repository has immutable tags; publish a new version instead"
            }
        }
        return PierError(
            kind, operation: request.operation, message: message, registry: registry, repository: request.repository,
            reference: request.reference, status: status, registryErrors: details, hint: hint)
    }

    func networkError(_ error: any Error, request: Request?) -> PierError {
        if let error = error as? PierError { return error }
        let text = String(describing: error)
        var hint = "is the registry running at \(endpointHost)?"
        if text.contains("certificate") || text.contains("CERTIFICATE") || text.contains("handshake") {
            hint = "the TLS certificate is not trusted: pass --ca-file, or --insecure-registry \(registry) for a test registry"
        }
        return PierError(
            .network, operation: request?.operation ?? "connect to registry", message: "cannot reach \(endpointHost)",
            registry: registry, repository: request?.repository, reference: request?.reference, hint: hint,
            cause: Self.shortCause(text))
    }

    static func shortCause(_ text: String) -> String {
        String(text.prefix(200)).replacingOccurrences(of: "\n", with: " ")
    }

    /// Decodes `{"errors":[{"code":…,"message":…}]}`; tolerates unknown codes and non-JSON bodies.
    static func registryErrors(in body: [UInt8]) -> [PierError.RegistryErrorDetail] {
        struct Body: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)) else { return [] }
        return (decoded.errors ?? []).map {
            PierError.RegistryErrorDetail(code: $0.code ?? "UNKNOWN", message: String(($0.message ?? "").prefix(300)))
        }
    }

    // MARK: URLs

    /// Resolves a `Location` header against the URL it answered: relative (GHCR) or absolute, query kept as is.
    static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
            return origin(of: base) + (location.hasPrefix("/") ? location : "/" + location)
        }
        return resolved.absoluteString
    }

    static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        return "\(components.scheme ?? "")://\(components.host ?? "")\(components.port.map { ":\($0)" } ?? "")"
    }

    /// For logs: the URL without its query (upload state and signed URLs carry tokens there).
    static func redacted(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        return String(url[..<question]) + "?…"
    }

    /// Appends a query parameter to an opaque URL, with `?` or `&` as its query needs (spec §Push: never rebuild it).
    static func appending(query item: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + item
    }
}
