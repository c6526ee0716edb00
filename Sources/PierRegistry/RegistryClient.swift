import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierHTTP
import PierModel

/// The distribution-spec client for one registry host: the only code in pier that speaks the distribution API
/// (the hosted-service APIs are in `PierHostedAPIs`; both send through `PierHTTP`).
///
/// It pings `/v2/` once, learns the auth challenge, attaches Basic or Bearer authorization (tokens cached by
/// realm+service+scope), retries what `RetryPolicy` says is worth it, bounds requests in flight, and maps failures
/// to `PierError`.
public final class RegistryClient: Sendable {
    /// The registry as people name it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    public let registry: String
    /// Where the API is served (`registry-1.docker.io` for Docker Hub).
    let endpointHost: String
    let options: RegistryOptions
    let transport: RegistryTransport
    let tokens = TokenCache()
    let limiter: RequestLimit
    let session: SessionState
    /// The registry's pull budget (Docker Hub's `ratelimit-remaining`), read from every answer.
    let budget = RateLimitBudget()
    /// Whether this registry lacks the referrers API route (learned once per run).
    let referrersRoute = ReferrersRoute()

    public init(registry: String, options: RegistryOptions, transport: RegistryTransport) {
        self.registry = registry
        self.endpointHost = registry == ImageReference.dockerHub ? ImageReference.dockerHubEndpoint : registry
        self.options = options
        self.transport = transport
        self.limiter = RequestLimit(limit: options.concurrency(for: registry))
        self.session = SessionState()
    }

    var logger: Logger { options.logger }

    /// The registry's pull budget as last read (`ratelimit-remaining`, `ratelimit-limit`), if it sends one.
    public func rateLimit() async -> String? { await budget.current?.summary }

    /// What the ping learned: the base URL (scheme decided), the challenges, the credential.
    struct Endpoint: Sendable {
        var baseURL: String
        /// The registry's own origin: the only one whose challenges pier learns and sends credentials to.
        var origin: HTTPOrigin
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
        /// Deadline for the response head; nil for a buffered exchange (`RegistryOptions.bufferedExchangeDeadline`).
        /// Streamed uploads and downloads set hours: their idle timeout bounds a stall.
        var timeout: Duration?
        /// How each exchange is made, when not by async-http-client's `execute` with the body left to the caller
        /// (a blob download into a file: `BlobDownload`; a streamed upload: `StreamedUpload`).
        var exchange: (@Sendable (HTTPClientRequest, HTTPClient, TimeAmount) async throws -> HTTPClientResponse)?

        /// A manifest GET: what Docker Hub counts against the pull limit (a HEAD is free).
        var spendsPullBudget: Bool { method == .GET && target.contains("/manifests/") }
    }

    /// Redirect hops followed for one request. Registries redirect a blob once or twice (to S3, then a CDN);
    /// more is a loop.
    static let maximumHops = 6

    /// Bytes of an error or status body worth reading (registries send well under 1 KiB of `errors[]`).
    static let statusBodyLimit = 1 << 16

    /// Reads a body pier keeps in memory, under the total deadline for buffered exchanges.
    func buffered(_ response: HTTPClientResponse, upTo limit: Int) async throws -> ByteBuffer {
        try await response.body.collect(upTo: limit, within: options.bufferedExchangeDeadline)
    }

    /// Reads and drops a body so its connection can be reused; never waits past the deadline.
    func drain(_ response: HTTPClientResponse) async {
        _ = try? await buffered(response, upTo: Self.statusBodyLimit)
    }

    /// The HTTP client for an origin other than the registry's: unverified TLS only for a host named insecure
    /// itself (`--insecure-registry` names hosts, not what their challenges point at).
    func httpClient(for origin: HTTPOrigin) -> HTTPClient {
        options.isNamedInsecure(origin.authority) ? transport.unverified : transport.verifying(for: origin.authority)
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
            if request.spendsPullBudget { try await spendBudget(request) }
            let response: HTTPClientResponse
            let origin: HTTPOrigin
            do {
                (response, origin) = try await execute(request, endpoint: endpoint, authorization: authHeader)
            } catch let error as PierError {
                throw error
            } catch {
                guard request.retryable, case .retry(let wait) = options.retry.afterNetworkFailure(attempt: attempt)
                else {
                    throw networkError(error, request: request)
                }
                logger.debug(
                    "retrying after network error", metadata: ["op": "\(request.operation)", "attempt": "\(attempt)"])
                try await pause(wait)
                continue
            }
            let status = Int(response.status.code)
            if status == 401, origin != endpoint.origin {
                // A redirect target or an upload Location on another origin asks for credentials. Its challenge is
                // not the registry's: it is neither learned nor answered (credentials go to the realm the
                // registry's own origin named, and nowhere else).
                await drain(response)
                var error = PierError(
                    .auth, operation: request.operation,
                    message:
                        "\(origin) (not the registry) answered 401; pier sends credentials only to the registry and the realm it names",
                    registry: registry, repository: request.repository, reference: request.reference, status: status,
                    hint:
                        "the registry's redirect or upload location needs credentials pier will not give it; ask the registry's operator"
                )
                error.isFinal = true
                throw error
            }
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
                    await drain(response)
                    continue
                }
            }
            if request.accept.contains(status) { return response }
            let decision = options.retry.afterAnswer(status: status, headers: response.headers, attempt: attempt)
            if request.retryable, case .retry(let wait) = decision {
                await drain(response)
                logger.debug(
                    "retrying after \(status)", metadata: ["op": "\(request.operation)", "attempt": "\(attempt)"])
                try await pause(wait)
                continue
            }
            var error = await statusError(response, request: request, authorization: authHeader)
            if case .stop(let serverWait?) = decision, serverWait > options.retry.maxServerWait {
                error.hint = "rate limited; the registry asks to wait \(serverWait.components.seconds) s: rerun later"
            }
            throw error
        }
    }

    /// Waits as the pull budget says before a request that spends it, or stops before one the registry would
    /// refuse.
    private func spendBudget(_ request: Request) async throws(PierError) {
        switch await budget.admit(longestWait: options.retry.maxServerWait) {
        case .go:
            return
        case .wait(let duration):
            logger.info(
                "the registry's pull limit is low; waiting \(duration.components.seconds) s",
                metadata: ["registry": "\(registry)"])
            try await pause(duration)
        case .exhausted(let reset):
            var error = PierError(
                .network, operation: request.operation,
                message: "the registry's pull limit is used up (\(await budget.current?.summary ?? "0 remaining"))",
                registry: registry, repository: request.repository, reference: request.reference,
                hint: reset.map { "it resets at \(ISO8601DateFormatter().string(from: $0)); rerun then" }
                    ?? "log in for a higher limit, or rerun later; finished work is skipped on a rerun")
            error.isFinal = true
            throw error
        }
    }

    private func pause(_ duration: Duration) async throws(PierError) {
        do { try await Task.sleep(for: duration) } catch {
            throw PierError(.other, operation: "wait before retry", message: "cancelled", registry: registry)
        }
    }

    /// Sends one HTTP exchange, following redirects when the request allows it; returns the response and the
    /// origin that gave it.
    private func execute(
        _ request: Request, endpoint: Endpoint, authorization: String?
    ) async throws -> (HTTPClientResponse, HTTPOrigin) {
        var url = request.target.hasPrefix("/") ? endpoint.baseURL + request.target : request.target
        var origin = try followable(
            url, from: endpoint.origin, what: request.target.hasPrefix("/") ? "a URL" : "a Location", request: request)
        let deadline = TimeAmount(request.timeout ?? options.bufferedExchangeDeadline)
        for _ in 0..<Self.maximumHops {
            var http = HTTPClientRequest(url: url)
            http.method = request.method
            http.headers = request.headers
            http.headers.replaceOrAdd(name: "User-Agent", value: options.userAgent)
            // Credentials are for the registry's own origin: an upload Location or a redirect to another origin
            // (a blob store, S3, a CDN) gets none.
            if origin == endpoint.origin, let authorization {
                http.headers.replaceOrAdd(name: "Authorization", value: authorization)
            }
            if let body = request.body { http.body = body() }
            logger.debug("→ \(request.method.rawValue) \(URLText.redacted(url))")
            let prepared = http
            let client = origin == endpoint.origin ? endpoint.client : httpClient(for: origin)
            // This registry's slot first, then the run's (`RequestLimit`).
            let exchange = request.exchange
            let response = try await limiter.withPermit { [transport] in
                try await transport.requestLimit.withPermit {
                    if let exchange { return try await exchange(prepared, client, deadline) }
                    return try await client.execute(prepared, timeout: deadline)
                }
            }
            logger.debug("← \(response.status.code) \(request.method.rawValue) \(URLText.redacted(url))")
            // Docker Hub's pull limits (docker docs, "Usage and limits"): paced and shown in the publish report.
            // Only the registry's own answers count: a blob store or CDN it redirects to says nothing of its budget.
            if origin == endpoint.origin { await budget.observe(response.headers) }
            guard request.followRedirects, [301, 302, 303, 307, 308].contains(Int(response.status.code)),
                let location = response.headers.first(name: "Location")
            else { return (response, origin) }
            await drain(response)
            let next = URLText.resolve(location, against: url)
            origin = try followable(next, from: origin, what: "a redirect", request: request)
            url = next
        }
        throw PierError(
            .network, operation: request.operation, message: "too many redirects", registry: registry,
            repository: request.repository, reference: request.reference)
    }

    /// The origin of a URL the registry sent pier to (an upload Location, a redirect), or a final error: only
    /// http and https are followed (by parsed scheme), with a port from 1 to 65535, and never from https to http.
    private func followable(
        _ url: String, from current: HTTPOrigin, what: String, request: Request
    ) throws(PierError) -> HTTPOrigin {
        let message: String
        switch HTTPOrigin.parse(url) {
        case .success(let origin):
            guard current.isHTTPS, !origin.isHTTPS else { return origin }
            message = "refused \(what) from https to http (\(URLText.redacted(url)))"
        case .failure(let refusal):
            message = "refused \(what) to \(refusal)"
        }
        var error = PierError(
            .network, operation: request.operation, message: message, registry: registry,
            repository: request.repository,
            reference: request.reference, hint: "the registry or its storage backend is misconfigured")
        error.isFinal = true
        throw error
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
        let client = namedInsecure ? transport.unverified : transport.verifying(for: registry)
        var firstError: (any Error)?
        // Where plain HTTP is allowed, ask it first: a TLS ClientHello sent to a plain HTTP server can hang until
        // the server's read timeout, while plain HTTP sent to a TLS server (Go's) is answered 400 at once.
        let schemes = options.allowsPlainHTTP(registry) ? ["http", "https"] : ["https"]
        for scheme in schemes {
            let base = "\(scheme)://\(endpointHost)"
            guard let origin = HTTPOrigin(base) else {
                throw PierError(
                    .usage, operation: "connect to registry", message: "\(endpointHost) is not a valid host[:port]",
                    registry: registry)
            }
            var request = HTTPClientRequest(url: base + "/v2/")
            request.headers.add(name: "User-Agent", value: options.userAgent)
            do {
                logger.debug("→ GET \(base)/v2/")
                let (prepared, deadline) = (
                    request, TimeAmount(min(Self.pingDeadline, options.bufferedExchangeDeadline))
                )
                let response = try await transport.requestLimit.withPermit {
                    try await client.execute(prepared, timeout: deadline)
                }
                let body = (try? await buffered(response, upTo: Self.statusBodyLimit)).map { Array(buffer: $0) } ?? []
                logger.debug("← \(response.status.code) GET \(base)/v2/")
                let status = Int(response.status.code)
                let challenges = AuthChallenge.parse(response.headers["WWW-Authenticate"])
                if status == 200 || status == 401 {
                    return Endpoint(
                        baseURL: base, origin: origin, client: client, challenges: challenges, credential: credential)
                }
                let error: PierError
                if status == 404 {
                    error = PierError(
                        .notFound, operation: "ping registry", message: "\(base)/v2/ answered 404: not a registry API",
                        registry: registry, status: status)
                } else {
                    error = statusError(
                        response, body: body,
                        request: Request(
                            method: .GET, target: "/v2/", scopes: [], operation: "ping registry", accept: []))
                }
                if scheme == schemes.last { throw error }
                firstError = firstError ?? error
            } catch let error as PierError {
                throw error
            } catch {
                // Report the HTTPS failure (a certificate problem says more than "connection refused on http"),
                // unless it only shows the server speaks plain HTTP: then what went wrong is the plain-HTTP answer.
                if scheme == "https", let plain = firstError, Self.isPlainHTTPAnswer(error) {
                    firstError = plain
                } else if scheme == "https" || firstError == nil {
                    firstError = error
                }
            }
        }
        throw networkError(firstError ?? PierError(.network, operation: "ping", message: "unreachable"), request: nil)
    }

    /// BoringSSL's failure when the bytes after a ClientHello are "HTTP/1.1 …": the server speaks plain HTTP.
    static func isPlainHTTPAnswer(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST")
    }

    /// Time for the answer to `GET /v2/`: a few bytes, and a probe that hangs (a TLS ClientHello sent to a
    /// plain-HTTP port) must give way to the next scheme well before the buffered-exchange deadline.
    static let pingDeadline: Duration = .seconds(30)

    private func tokenKey(_ challenge: AuthChallenge, scopes: [String]) -> String {
        "\(challenge.realm ?? "")|\(challenge.service ?? "")|\(scopes.sorted().joined(separator: " "))"
    }

    private func invalidateToken(endpoint: Endpoint, scopes: [String]) async {
        if endpoint.credential == .anonymous { await options.credentials.invalidateLogin(for: registry) }
        guard let bearer = endpoint.challenges.first(where: { $0.scheme == "bearer" }) else { return }
        await tokens.invalidate(key: tokenKey(bearer, scopes: scopes))
    }

    /// The `Authorization` value for these scopes, or nil when the registry asked for none.
    private func authorization(endpoint: Endpoint, scopes: [String], request: Request) async throws(PierError)
        -> String?
    {
        if case .bearer(let token) = endpoint.credential { return "Bearer \(token)" }
        let credential =
            endpoint.challenges.isEmpty
            ? endpoint.credential
            : try await options.credentials.current(for: registry, pinged: endpoint.credential, transport: transport)
        if let bearer = endpoint.challenges.first(where: { $0.scheme == "bearer" }) {
            let key = tokenKey(bearer, scopes: scopes)
            do {
                let token = try await tokens.token(key: key) { [self] in
                    try await fetchToken(bearer, scopes: scopes, credential: credential, endpoint: endpoint)
                }
                return "Bearer \(token)"
            } catch let error as PierError {
                throw error.located(repository: request.repository)
            } catch {
                throw networkError(error, request: request)
            }
        }
        if endpoint.challenges.contains(where: { $0.scheme == "basic" }),
            case .basic(let user, let password) = credential
        {
            return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        return nil
    }

    private struct TokenAnswer: Decodable {
        var token: String?
        var access_token: String?
        /// Seconds; any JSON number (clamped by the caller), nil when absent or not a number.
        var expires_in: Double?

        enum CodingKeys: String, CodingKey { case token, access_token, expires_in }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            token = try container.decodeIfPresent(String.self, forKey: .token)
            access_token = try container.decodeIfPresent(String.self, forKey: .access_token)
            expires_in = try? container.decodeIfPresent(Double.self, forKey: .expires_in)
        }
    }

    /// Fetches a token from the challenge's realm (distribution token.md, oauth.md): GET with Basic credentials sent
    /// up front (else public token servers hand out anonymous pull-only tokens), or an OAuth2 POST with a refresh
    /// token when the credential is an identity token.
    ///
    /// The realm is one the registry's own origin named (challenges from other origins are never learned). It
    /// must be http or https; credentials go to it over plain http only when its host is loopback or named
    /// insecure itself; its TLS is verified unless its own host is named insecure.
    private func fetchToken(
        _ challenge: AuthChallenge, scopes: [String], credential: Credential, endpoint: Endpoint
    ) async throws -> (String, Duration) {
        let parsed = challenge.realm.map { ($0, HTTPOrigin.parse($0)) }
        guard case let (realm, .success(realmOrigin))? = parsed, var components = URLComponents(string: realm) else {
            var message = "the registry's Bearer challenge has no realm"
            if case (_, .failure(let refusal))? = parsed { message = "the registry's Bearer realm is \(refusal)" }
            var error = PierError(
                .auth, operation: "get token", message: message, registry: registry,
                hint: "the registry's token service is misconfigured")
            error.isFinal = true
            throw error
        }
        if credential != .anonymous, !realmOrigin.isHTTPS, !options.allowsPlainHTTP(realmOrigin.authority) {
            var error = PierError(
                .auth, operation: "get token",
                message:
                    "the registry's token realm \(realmOrigin) is plain http; pier does not send credentials there in clear text",
                registry: registry,
                hint:
                    "the realm should be https; if this network is trusted, pass --insecure-registry \(realmOrigin.authority)"
            )
            error.isFinal = true
            throw error
        }
        let client = realmOrigin == endpoint.origin ? endpoint.client : httpClient(for: realmOrigin)
        var request: HTTPClientRequest
        switch credential {
        case .identityToken(let refresh):
            request = HTTPClientRequest(url: realm)
            request.method = .POST
            var form = URLComponents()
            form.queryItems =
                [
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
        logger.debug(
            "→ \(request.method.rawValue) \(URLText.redacted(realm)) (token, scope \(scopes.joined(separator: " ")))")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            let (prepared, deadline) = (request, TimeAmount(min(Self.tokenDeadline, options.bufferedExchangeDeadline)))
            response = try await transport.requestLimit.withPermit {
                try await client.execute(prepared, timeout: deadline)
            }
            body = try await buffered(response, upTo: Self.tokenAnswerLimit)
        } catch {
            var failure = networkError(error, request: nil, host: realmOrigin.authority)
            failure.operation = "get token"
            throw failure
        }
        logger.debug("← \(response.status.code) token")
        let status = Int(response.status.code)
        guard status == 200 else {
            let details = Self.registryErrors(in: Array(buffer: body))
            throw PierError(
                .auth, operation: "get token",
                message: status == 401 || status == 403
                    ? "the token server rejected the credentials" : "the token server answered \(status)",
                registry: registry, status: status, registryErrors: details,
                hint: loginHint)
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(buffer: body)),
            let token = answer.token ?? answer.access_token, !token.isEmpty
        else {
            throw PierError(
                .auth, operation: "get token", message: "the token server's answer has no token", registry: registry)
        }
        // It goes into an Authorization header: visible ASCII only (RFC 6750 §2.1 b64token is narrower still).
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw PierError(
                .auth, operation: "get token",
                message: "the token server's token holds a space or control character, which no header can carry",
                registry: registry)
        }
        let seconds = answer.expires_in.map { $0.isFinite ? $0 : 0 } ?? Double(Self.defaultTokenLifetime)
        let lifetime = Int(min(max(seconds, 0), Double(Self.maximumTokenLifetime)))
        return (token, .seconds(lifetime))
    }

    /// Time for a token answer: a token server that takes longer is down, and the request is retried.
    static let tokenDeadline: Duration = .seconds(60)
    /// Seconds a token lives when the answer leaves out `expires_in`: distribution-spec token.md says 60
    /// (`TokenCache.minimumLifetime`).
    static let defaultTokenLifetime = 60
    /// Seconds of `expires_in` believed at most: a run is shorter than a day, and the value comes from outside.
    static let maximumTokenLifetime = 86_400

    /// Bytes of a token answer: a JWT with an `x5c` chain is a few KiB; Docker Hub's are under 8 KiB.
    static let tokenAnswerLimit = 1 << 20

    /// Where the refused credentials came from, or how to give some.
    var loginHint: String { options.credentials.loginHint(for: registry) }

    // MARK: Errors

    /// Maps a status answer to a `PierError`, reading the registry's `errors[]` body when there is one.
    func statusError(_ response: HTTPClientResponse, request: Request, authorization: String? = nil) async -> PierError
    {
        let body = (try? await buffered(response, upTo: Self.statusBodyLimit)).map { Array(buffer: $0) } ?? []
        return statusError(response, body: body, request: request, authorization: authorization)
    }

    /// As above, for a response whose body was already read (a body can be read only once). The registry's words
    /// are quoted without `authorization`, the header the request carried, should the registry echo it.
    func statusError(_ response: HTTPClientResponse, body: [UInt8], request: Request, authorization: String? = nil)
        -> PierError
    {
        let status = Int(response.status.code)
        let secrets = authorization.map { [$0] } ?? []
        let details = Self.registryErrors(in: body, redacting: secrets)
        let message: String
        if let first = details.first {
            message = "\(first.code) \"\(first.message)\""
        } else {
            let phrase = SecretText.redacting(response.status.reasonPhrase, values: secrets)
            message = phrase.isEmpty ? "HTTP \(status)" : phrase
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
        case 404:
            kind = .notFound
            if ![.GET, .HEAD].contains(request.method), details.contains(where: { $0.errorCode == .nameUnknown }),
                let source = options.credentials.loginSource,
                source.logsIn(to: DockerConfig.normalizedHost(registry))
            {
                hint = source.missingRepositoryHint(for: registry)
            }
        case 405:
            kind = .unsupported
            hint = "the registry does not support this operation"
        case 408, 429, 500...599:
            kind = .network
            if status == 429 { hint = "rate limited; try again later" }
        default:
            let codes = Set(details.map(\.errorCode))
            kind = codes.isDisjoint(with: [.digestInvalid, .sizeInvalid]) ? .other : .verification
            // ECR answers a tag it cannot take with TAG_INVALID, a code outside the spec.
            if !codes.isDisjoint(with: [.manifestInvalid, .other("TAG_INVALID")]) { kind = .invalidInput }
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

    /// Maps a transport failure to a `PierError`; `host` is the host pier was talking to (the registry's unless a
    /// realm or blob store is named).
    func networkError(_ error: any Error, request: Request?, host: String? = nil) -> PierError {
        if let error = error as? PierError { return error }
        let host = host ?? endpointHost
        if let deadline = error as? BodyDeadlineExceeded {
            return PierError(
                .network, operation: request?.operation ?? "read from registry",
                message: "\(host) did not send the whole answer within \(deadline.deadline.components.seconds) s",
                registry: registry, repository: request?.repository, reference: request?.reference,
                hint: "the server is sending very slowly; the limit is 3 × --timeout")
        }
        let text = String(describing: error)
        var hint = "is the registry running at \(host)?"
        if let http = error as? HTTPClientError, http == .readTimeout {
            hint = "the server stopped sending; if it is only slow, raise --timeout"
        } else if Self.isPlainHTTPAnswer(error) {
            hint =
                "the server answered plain HTTP on a TLS connection; is it http://\(host)? use --insecure-registry \(host)"
        } else if text.contains("certificate") || text.contains("CERTIFICATE") || text.contains("handshake") {
            hint =
                "the TLS certificate is not trusted: pass --ca-file, or --insecure-registry \(host) for a test registry"
        }
        return PierError(
            .network, operation: request?.operation ?? "connect to registry", message: "cannot reach \(host)",
            registry: registry, repository: request?.repository, reference: request?.reference, hint: hint,
            cause: ErrorCause.of(error))
    }

    /// Maps a failure to read a buffered body: too large, too slow (the total deadline), or cut off.
    func bodyError(
        _ error: any Error, what: String, limit: Int, operation: String, repository: String?, reference: String? = nil
    ) -> PierError {
        let request = Request(
            method: .GET, target: "", scopes: [], operation: operation, repository: repository, reference: reference,
            accept: [])
        if error is NIOTooManyBytesError {
            return PierError(
                .invalidInput, operation: operation, message: "the \(what) is over the \(limit >> 20) MiB limit",
                registry: registry, repository: repository, reference: reference)
        }
        return networkError(error, request: request)
    }

    /// Decodes `{"errors":[{"code":…,"message":…}]}`; tolerates unknown codes and non-JSON bodies.
    /// The `errors[]` of a registry's answer, each without `secrets` (request header values the registry may echo;
    /// removed before the text is cut to its limit, so no part of one survives the cut).
    static func registryErrors(in body: [UInt8], redacting secrets: [String] = []) -> [PierError.RegistryErrorDetail] {
        struct Body: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)) else { return [] }
        return (decoded.errors ?? []).map {
            PierError.RegistryErrorDetail(
                code: String(
                    SecretText.redacting($0.code ?? "UNKNOWN", values: secrets).prefix(Self.registryCodeLimit)),
                message: String(
                    SecretText.redacting($0.message ?? "", values: secrets).prefix(Self.registryMessageLimit)))
        }
    }

    /// Characters of an error code kept: the spec's longest, `MANIFEST_BLOB_UNKNOWN`, is 21.
    static let registryCodeLimit = 64
    /// Characters of an error message kept: a sentence, enough for the registry's reason.
    static let registryMessageLimit = 300
}
