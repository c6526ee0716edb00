import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierHTTP
import PierModel

/// A small JSON-over-HTTPS helper for the hosted-service APIs, sharing pier's transport (TLS settings, pools) and
/// retrying as `RetryPolicy` says, as the registry client does (GitHub's secondary rate limit included).
struct APIClient: Sendable {
    let http: HTTPClient
    let service: String
    let userAgent: String
    let retry: RetryPolicy
    /// The run's cap on requests in flight, shared with every registry client.
    let requestLimit: RequestLimit
    /// The API's request budget (GitHub's `x-ratelimit-remaining`), read from every answer: pier slows down when
    /// it runs low and waits for a reset it can afford to wait for, instead of failing halfway through a run.
    let budget = RateLimitBudget()

    init(transport: HTTPTransport, service: String, retry: RetryPolicy = RetryPolicy()) {
        http = transport.verifying
        requestLimit = transport.requestLimit
        userAgent = transport.userAgent
        self.service = service
        self.retry = retry
    }

    /// Pages followed per listing: 1,000 pages of 100 are 100,000 images, more than any repository holds.
    static let maximumPages = 1_000
    /// Items asked for per page: the most GitHub (`per_page`), GitLab (`per_page`) and Harbor and Docker Hub
    /// (`page_size`) return.
    static let pageSize = 100

    /// Total time for a management API answer's head, and again for its body: these are small JSON documents,
    /// and an idle timeout alone never fires on a server trickling a byte a second.
    static let answerDeadline: Duration = .seconds(60)
    /// Bytes of one answer (a page of package versions or tags).
    static let answerLimit = 16 << 20

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    }

    /// Whether a request may be sent again after a failure that leaves unknown whether the server acted on it.
    enum Repeatability: Sendable {
        /// Reads, updates to a stated value, deletes, and calls the API documents as idempotent: every retryable
        /// failure is retried.
        case repeatable
        /// A request that creates something (a release, an asset): sent again only when the server said it did not
        /// act (429, or a rate limit with a wait). A network failure, 408 or 5xx after the request left may have
        /// created it, and a second one would make a duplicate (GitHub answers a repeated asset 422, a repeated
        /// release a second draft or 422), so the failure is reported instead.
        case createsOnce
    }

    func call(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], json: Any? = nil, body: [UInt8]? = nil,
        operation: String, accept: Set<Int> = [200, 201, 202, 204], repeatability: Repeatability = .repeatable
    ) async throws(PierError) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        request.headers.replaceOrAdd(name: "User-Agent", value: userAgent)
        var payload: [UInt8]? = body
        if let json, let data = try? JSONSerialization.data(withJSONObject: json) {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            payload = Array(data)
        }
        var attempt = 0
        while true {
            attempt += 1
            try await spendBudget(url: url, operation: operation)
            if let payload { request.body = .bytes(ByteBuffer(bytes: payload)) }
            let answer: Answer
            do {
                let (http, prepared) = (http, request)
                let response = try await requestLimit.withPermit {
                    try await http.execute(prepared, timeout: TimeAmount(Self.answerDeadline))
                }
                let bytes = Array(
                    buffer: try await response.body.collect(upTo: Self.answerLimit, within: Self.answerDeadline))
                answer = Answer(status: Int(response.status.code), headers: response.headers, body: bytes)
            } catch {
                guard repeatability == .repeatable, case .retry(let wait) = retry.afterNetworkFailure(attempt: attempt)
                else {
                    throw PierError(
                        .network, operation: operation, message: "cannot reach \(service)",
                        registry: URLComponents(string: url)?.host, cause: ErrorCause.of(error))
                }
                try await pause(wait, operation)
                continue
            }
            await budget.observe(answer.headers)
            if accept.contains(answer.status) { return answer }
            let decision = retry.afterAnswer(status: answer.status, headers: answer.headers, attempt: attempt)
            if repeatability == .createsOnce, answer.status != 429,
                RetryPolicy.serverWait(status: answer.status, headers: answer.headers) == nil
            {
                throw failure(answer, url: url, operation: operation, rateLimited: nil, headers: headers)
            }
            switch decision {
            case .retry(let wait): try await pause(wait, operation)
            case .stop(let serverWait):
                throw failure(answer, url: url, operation: operation, rateLimited: serverWait, headers: headers)
            }
        }
    }

    /// Waits as the budget says before the next request, or stops before one the API would refuse.
    private func spendBudget(url: String, operation: String) async throws(PierError) {
        switch await budget.admit(longestWait: retry.maxServerWait) {
        case .go:
            return
        case .wait(let duration):
            try await pause(duration, operation)
        case .exhausted(let reset):
            var error = PierError(
                .network, operation: operation,
                message: "\(service)'s rate limit is used up (\(await budget.current?.summary ?? "0 remaining"))",
                registry: URLComponents(string: url)?.host,
                hint: reset.map { "it resets at \(ISO8601DateFormatter().string(from: $0)); rerun then" }
                    ?? "rerun later")
            error.isFinal = true
            throw error
        }
    }

    private func pause(_ duration: Duration, _ operation: String) async throws(PierError) {
        guard await RetryPolicy.sleep(duration) else {
            throw PierError(.other, operation: operation, message: "cancelled while waiting to retry \(service)")
        }
    }

    private func failure(
        _ answer: Answer, url: String, operation: String, rateLimited: Duration?, headers: HTTPHeaders
    ) -> PierError {
        // Redacted, then cut: a secret that crosses the cut would otherwise leave its first part. (The first 64 KiB
        // are read for that: far more than any secret is long.)
        let text = String(
            Self.redacting(String(decoding: answer.body.prefix(1 << 16), as: UTF8.self), headers: headers)
                .prefix(Self.quotedBodyLimit)
        )
        .replacingOccurrences(of: "\n", with: " ")
        let kind: PierError.Kind
        switch answer.status {
        case _ where rateLimited != nil: kind = .network
        case 401, 403: kind = .auth
        case 404: kind = .notFound
        case 405, 501: kind = .unsupported
        case 429, 500...599: kind = .network
        case 300...399: kind = .invalidInput
        default: kind = .other
        }
        if (300...399).contains(answer.status) {
            let target = answer.headers.first(name: "Location").map { URLText.origin(of: $0) } ?? "nowhere"
            return PierError(
                kind, operation: operation,
                message: "\(service) answered \(answer.status), a redirect to \(target)",
                registry: URLComponents(string: url)?.host, status: answer.status,
                hint: "pier does not follow an API's redirects with its token: set the API URL to where it redirects")
        }
        return PierError(
            kind, operation: operation, message: "\(service) answered \(answer.status): \(text)",
            registry: URLComponents(string: url)?.host, status: answer.status,
            hint: rateLimited.map { "rate limited; the API asks to wait \($0.components.seconds) s: rerun later" })
    }

    /// Request headers that carry a secret; an answer that echoes one is quoted without it.
    static let secretHeaders = ["Authorization", "PRIVATE-TOKEN", "JOB-TOKEN"]

    /// `text` with the values of `headers`' secret headers (and the token after an auth scheme) replaced.
    static func redacting(_ text: String, headers: HTTPHeaders) -> String {
        SecretText.redacting(text, values: secretHeaders.flatMap { headers[$0] })
    }

    /// Bytes of a refused answer quoted in the error: the API's error message, not its whole page.
    static let quotedBodyLimit = 300

    /// Follows `Link: <…>; rel="next"` from `first`, handing each answer to `page`. The listing must be whole
    /// (prune acts on it, and a kept tag on an unread page must still protect its image): a broken link chain or
    /// more than `maximumPages` pages is an error (`completePages`).
    func pages(_ first: String, headers: HTTPHeaders, operation: String, _ page: (Answer) throws(PierError) -> Void)
        async throws(PierError)
    {
        try await completePages(first, headers: headers, operation: operation, maximumPages: Self.maximumPages, page)
    }

    /// A next-page URL resolved against `current`, only when it stays on the same origin: the API token in
    /// `headers` belongs to that origin alone.
    static func sameOrigin(_ link: String?, as current: String) -> String? {
        guard let link else { return nil }
        let resolved = URLText.resolve(link, against: current)
        return URLText.origin(of: resolved) == URLText.origin(of: current) ? resolved : nil
    }

    /// GitHub REST API headers (API version 2022-11-28).
    static func gitHubHeaders(token: String) -> HTTPHeaders {
        [
            "Authorization": "Bearer \(token)", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        ]
    }

    /// GitLab API auth: a personal/project token (`PRIVATE-TOKEN`) or a CI job token (`JOB-TOKEN`).
    static func gitLabHeaders(privateToken: String?, jobToken: String?) -> HTTPHeaders {
        var headers: HTTPHeaders = [:]
        if let privateToken { headers.add(name: "PRIVATE-TOKEN", value: privateToken) }
        if let jobToken { headers.add(name: "JOB-TOKEN", value: jobToken) }
        return headers
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
