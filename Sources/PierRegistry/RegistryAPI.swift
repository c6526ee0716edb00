import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierModel

/// Deleting tags and images through a registry's own management API, where the distribution API cannot
/// (Docker Hub and GHCR refuse DELETE; ECR, GitLab and Harbor have native calls with better semantics).
public protocol TagDeletionAPI: Sendable {
    /// A name for reports: "Docker Hub API", "GitHub packages API", …
    var name: String { get }
    /// Whether the API removes one tag and leaves its image (GHCR cannot: a package version is a whole image).
    var canUntag: Bool { get }
    /// Whether the API deletes a manifest by digest alone, tags or not (Docker Hub and GitLab delete tags only, so
    /// an index's untagged children stay).
    var deletesByDigest: Bool { get }
    /// Removes one tag, leaving the image and its other tags.
    func untag(repository: String, tag: String, digest: Digest) async throws(PierError)
    /// Removes an image and every tag on it. `tags` are the tags the caller knows point at it.
    func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError)
}

extension TagDeletionAPI {
    public var canUntag: Bool { true }
    public var deletesByDigest: Bool { true }
}

/// One image as a registry's management API lists it: its digest, its tags (none for an untagged manifest) and
/// the push time the registry keeps.
public struct ListedImage: Sendable, Equatable {
    public var digest: Digest
    public var tags: [String]
    public var pushed: Date?
    public init(digest: Digest, tags: [String], pushed: Date?) {
        self.digest = digest
        self.tags = tags
        self.pushed = pushed
    }
}

/// A management API that lists a repository's images with the push times it keeps: pier ages images by these
/// rather than by dates the builder wrote (which reproducible builds set to 1970).
public protocol ImageListingAPI: TagDeletionAPI {
    /// Which push time `listImages` reports.
    var pushTimeSource: DateSource { get }
    /// Whether untagged manifests appear in `listImages` (GHCR versions, ECR images, Harbor artifacts).
    var listsUntagged: Bool { get }
    /// Every image of `repository`, listed once (paginated, bounded by `APIClient.maximumPages`).
    func listImages(repository: String) async throws(PierError) -> [ListedImage]
}

/// A small JSON-over-HTTPS helper for the management APIs, sharing pier's transport (TLS settings, pools).
/// Retries as the registry client does: network errors, 429 and 5xx, honouring `Retry-After`; and GitHub's secondary
/// rate limit (403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), which is a
/// pause, not an auth failure (docs.github.com "Rate limits for the REST API").
struct APIClient: Sendable {
    let http: HTTPClient
    let service: String
    var retry = RetryPolicy()

    /// Pages followed per listing: 1,000 pages of 100 are 100,000 images, more than any repository holds.
    static let maximumPages = 1_000
    /// The longest pause pier takes for a rate limit; a limit that resets later is reported instead of waited out.
    static let maximumRateLimitWait: Duration = .seconds(120)

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

    func call(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], json: Any? = nil, body: [UInt8]? = nil,
        operation: String, accept: Set<Int> = [200, 201, 202, 204]
    ) async throws(PierError) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        request.headers.replaceOrAdd(name: "User-Agent", value: "pier/0.1")
        var payload: [UInt8]? = body
        if let json, let data = try? JSONSerialization.data(withJSONObject: json) {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            payload = Array(data)
        }
        var attempt = 0
        while true {
            attempt += 1
            if let payload { request.body = .bytes(ByteBuffer(bytes: payload)) }
            let answer: Answer
            do {
                let response = try await http.execute(request, timeout: TimeAmount(Self.answerDeadline))
                let bytes = Array(buffer: try await response.body.collect(upTo: Self.answerLimit, within: Self.answerDeadline))
                answer = Answer(status: Int(response.status.code), headers: response.headers, body: bytes)
            } catch {
                guard attempt < retry.maxAttempts else {
                    throw PierError(.network, operation: operation, message: "cannot reach \(service)", registry: URLComponents(string: url)?.host,
                        cause: RegistryClient.shortCause("\(error)"))
                }
                try await pause(retry.delay(afterAttempt: attempt, retryAfter: nil), operation)
                continue
            }
            if accept.contains(answer.status) { return answer }
            let wait = Self.rateLimitWait(answer)
            let retryable = RetryPolicy.isRetryable(status: answer.status) || wait != nil
            if retryable, attempt < retry.maxAttempts, (wait ?? .zero) <= Self.maximumRateLimitWait {
                try await pause(wait ?? retry.delay(afterAttempt: attempt, retryAfter: nil), operation)
                continue
            }
            throw failure(answer, url: url, operation: operation, rateLimited: wait)
        }
    }

    /// The pause a rate-limited answer asks for: `Retry-After` on 429/5xx, and on GitHub's 403/429 secondary limit
    /// `retry-after` or the `x-ratelimit-reset` epoch when `x-ratelimit-remaining` is 0. Nil when the answer is not
    /// rate limited. Header values are range-checked: negative or unparsable values are ignored, a reset more than
    /// a day away is treated as a day.
    static func rateLimitWait(_ answer: Answer, now: Date = Date()) -> Duration? {
        guard [403, 429].contains(answer.status) || (500...599).contains(answer.status) else { return nil }
        if let retryAfter = RetryPolicy.parseRetryAfter(answer.headers.first(name: "Retry-After"), now: now) {
            return min(retryAfter, .seconds(86400))
        }
        guard answer.headers.first(name: "x-ratelimit-remaining") == "0",
            let text = answer.headers.first(name: "x-ratelimit-reset"), let reset = Int64(text), reset >= 0
        else { return nil }
        let seconds = max(0, min(Double(reset) - now.timeIntervalSince1970, 86400))
        return .seconds(Int(seconds.rounded(.up)))
    }

    private func pause(_ duration: Duration, _ operation: String) async throws(PierError) {
        do { try await Task.sleep(for: duration) } catch {
            throw PierError(.other, operation: operation, message: "cancelled while waiting to retry \(service)")
        }
    }

    private func failure(_ answer: Answer, url: String, operation: String, rateLimited: Duration?) -> PierError {
        let text = String(decoding: answer.body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        let kind: PierError.Kind
        switch answer.status {
        case _ where rateLimited != nil: kind = .network
        case 401, 403: kind = .auth
        case 404: kind = .notFound
        case 405, 501: kind = .unsupported
        case 429, 500...599: kind = .network
        default: kind = .other
        }
        return PierError(kind, operation: operation, message: "\(service) answered \(answer.status): \(text)",
            registry: URLComponents(string: url)?.host, status: answer.status,
            hint: rateLimited.map { "rate limited; the API asks to wait \($0.components.seconds) s: rerun later" })
    }

    /// Follows `Link: <…>; rel="next"` from `first`, at most `maximumPages` pages and never a page that repeats,
    /// handing each answer to `page`.
    func pages(_ first: String, headers: HTTPHeaders, operation: String, _ page: (Answer) throws(PierError) -> Void)
        async throws(PierError)
    {
        var url: String? = first
        var seen: Set<String> = []
        while let next = url, seen.count < Self.maximumPages, seen.insert(next).inserted {
            let answer = try await call(.GET, next, headers: headers, operation: operation)
            try page(answer)
            url = Self.sameOrigin(answer.headers.first(name: "Link").flatMap(RegistryClient.nextLink), as: next)
        }
    }

    /// A next-page URL resolved against `current`, only when it stays on the same origin: the API token in
    /// `headers` belongs to that origin alone.
    static func sameOrigin(_ link: String?, as current: String) -> String? {
        guard let link else { return nil }
        let resolved = RegistryClient.resolve(link, against: current)
        return RegistryClient.origin(of: resolved) == RegistryClient.origin(of: current) ? resolved : nil
    }

    /// GitHub REST API headers (API version 2022-11-28).
    static func gitHubHeaders(token: String) -> HTTPHeaders {
        ["Authorization": "Bearer \(token)", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"]
    }

    /// GitLab API auth: a personal/project token (`PRIVATE-TOKEN`) or a CI job token (`JOB-TOKEN`).
    static func gitLabHeaders(privateToken: String?, jobToken: String?) -> HTTPHeaders {
        var headers: HTTPHeaders = [:]
        if let privateToken { headers.add(name: "PRIVATE-TOKEN", value: privateToken) }
        if let jobToken { headers.add(name: "JOB-TOKEN", value: jobToken) }
        return headers
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// Docker Hub: `DELETE hub.docker.com/v2/repositories/NS/REPO/tags/TAG/` with a JWT from `/v2/users/login`
/// (docker/hub-tool `pkg/hub/tags.go`). The Hub has no per-digest delete: an image goes when its last tag goes.
public struct DockerHubAPI: ImageListingAPI {
    public let name = "Docker Hub API"
    public var deletesByDigest: Bool { false }
    public var pushTimeSource: DateSource { .dockerHubPushed }
    public var listsUntagged: Bool { false }
    let api: APIClient
    let base: String
    let username: String
    let password: String

    public init(transport: RegistryTransport, username: String, password: String, base: String = "https://hub.docker.com") {
        api = APIClient(http: transport.verifying, service: "Docker Hub")
        self.base = base
        self.username = username
        self.password = password
    }

    func token() async throws(PierError) -> String {
        let answer = try await api.call(.POST, "\(base)/v2/users/login", json: ["username": username, "password": password],
            operation: "log in to Docker Hub")
        guard let token = (answer.json as? [String: Any])?["token"] as? String else {
            throw PierError(.auth, operation: "log in to Docker Hub", message: "the answer has no token")
        }
        return token
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        let jwt = try await token()
        _ = try await api.call(.DELETE, "\(base)/v2/repositories/\(repository)/tags/\(APIClient.escape(tag))/",
            headers: ["Authorization": "JWT \(jwt)"], operation: "delete tag \(tag)")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        for tag in tags { try await untag(repository: repository, tag: tag, digest: digest) }
    }

    /// `GET /v2/namespaces/NS/repositories/REPO/tags?page_size=100` (Hub API "List repository tags"): each tag with
    /// its `digest` and `tag_last_pushed`, paginated by `next`.
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return [] }
        let headers: HTTPHeaders = ["Authorization": "JWT \(try await token())"]
        var images: [ListedImage] = []
        var url: String? = "\(base)/v2/namespaces/\(parts[0])/repositories/\(parts[1])/tags?page_size=100"
        var seen: Set<String> = []
        while let next = url, seen.count < APIClient.maximumPages, seen.insert(next).inserted {
            let page = try await api.call(.GET, next, headers: headers, operation: "list Docker Hub tags").json as? [String: Any]
            for tag in page?["results"] as? [[String: Any]] ?? [] {
                guard let name = tag["name"] as? String, let digest = (tag["digest"] as? String).flatMap({ try? Digest($0) }) else { continue }
                images.append(ListedImage(digest: digest, tags: [name], pushed: (tag["tag_last_pushed"] as? String).flatMap(ImageDate.parse)))
            }
            url = APIClient.sameOrigin(page?["next"] as? String, as: next)
        }
        return images
    }
}

/// GHCR through the GitHub REST API: a package version is a digest; deleting it removes the image and its tags
/// (`DELETE /orgs/ORG/packages/container/NAME/versions/ID`, or `/users/USER/…`). GitHub cannot remove one tag.
/// Versions are listed once per run (`GET …/versions?per_page=100`, Link pagination) and every delete looks its id
/// up in that list.
public struct GitHubPackagesAPI: ImageListingAPI {
    public let name = "GitHub packages API"
    public var canUntag: Bool { false }
    public var pushTimeSource: DateSource { .gitHubPushed }
    public var listsUntagged: Bool { true }
    let api: APIClient
    let base: String
    let token: String
    let versions = VersionIndex()

    public init(transport: RegistryTransport, token: String, base: String = "https://api.github.com", retry: RetryPolicy = RetryPolicy()) {
        api = APIClient(http: transport.verifying, service: "GitHub API", retry: retry)
        self.base = base
        self.token = token
    }

    var headers: HTTPHeaders { APIClient.gitHubHeaders(token: token) }

    /// One package version: its id, its digest (`name`), tags and push time.
    struct Version: Sendable {
        var id: Int
        var image: ListedImage
    }

    /// Each repository's versions and the path they were listed under, listed at most once.
    actor VersionIndex {
        var listed: [String: (path: String, versions: [Digest: Version])] = [:]
        func get(_ repository: String) -> (path: String, versions: [Digest: Version])? { listed[repository] }
        func set(_ repository: String, _ value: (path: String, versions: [Digest: Version])) { listed[repository] = value }
        func remove(_ repository: String, _ digest: Digest) { listed[repository]?.versions[digest] = nil }
    }

    /// `org/app/sub` → owner `org`, package `app/sub` (escaped as one path segment).
    func paths(_ repository: String) -> [String] {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return [] }
        let package = APIClient.escape(parts[1])
        return ["\(base)/orgs/\(parts[0])/packages/container/\(package)", "\(base)/users/\(parts[0])/packages/container/\(package)"]
    }

    /// The versions of `repository`, from the org path or else the user path; listed once, then from the index.
    func index(_ repository: String) async throws(PierError) -> (path: String, versions: [Digest: Version]) {
        if let known = await versions.get(repository) { return known }
        for path in paths(repository) {
            var found: [Digest: Version] = [:]
            do {
                try await api.pages("\(path)/versions?per_page=100", headers: headers, operation: "list package versions") { answer in
                    for entry in answer.json as? [[String: Any]] ?? [] {
                        guard let version = Self.version(entry) else { continue }
                        found[version.image.digest] = version
                    }
                }
            } catch {
                if error.kind == .notFound { continue }
                throw error
            }
            await versions.set(repository, (path, found))
            return (path, found)
        }
        throw PierError(.notFound, operation: "list package versions", message: "no container package \(repository)",
            registry: "ghcr.io", repository: repository, hint: "the token needs read:packages and delete:packages")
    }

    /// A version entry: `id`, `name` (the digest), `metadata.container.tags`, and the later of `created_at` and
    /// `updated_at` (a version is updated when a tag is pushed onto it again).
    static func version(_ entry: [String: Any]) -> Version? {
        guard let id = entry["id"] as? Int, let digest = (entry["name"] as? String).flatMap({ try? Digest($0) }) else { return nil }
        let tags = ((entry["metadata"] as? [String: Any])?["container"] as? [String: Any])?["tags"] as? [String] ?? []
        let dates = ["created_at", "updated_at"].compactMap { (entry[$0] as? String).flatMap(ImageDate.parse) }
        return Version(id: id, image: ListedImage(digest: digest, tags: tags, pushed: dates.max()))
    }

    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        try await index(repository).versions.values.map(\.image)
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        throw PierError(.unsupported, operation: "untag \(tag)", message: "GHCR cannot remove one tag of an image that other tags keep",
            registry: "ghcr.io", repository: repository, reference: tag, hint: "delete the tags that share it too, or keep this tag")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        let (path, known) = try await index(repository)
        guard let version = known[digest] else {
            throw PierError(.notFound, operation: "delete \(digest.short)", message: "no package version \(digest.short) in \(repository)",
                registry: "ghcr.io", repository: repository)
        }
        _ = try await api.call(.DELETE, "\(path)/versions/\(version.id)", headers: headers, operation: "delete package version \(digest.short)")
        await versions.remove(repository, digest)
    }
}

/// GitLab: `DELETE /projects/:id/registry/repositories/:repository_id/tags/:tag_name` (container registry API).
public struct GitLabRegistryAPI: ImageListingAPI {
    public let name = "GitLab container registry API"
    public var deletesByDigest: Bool { false }
    public var pushTimeSource: DateSource { .gitLabCreated }
    public var listsUntagged: Bool { false }
    let api: APIClient
    let base: String
    let headers: HTTPHeaders

    /// `base` is the API root (`CI_API_V4_URL`, e.g. https://gitlab.example.com/api/v4); the token is a personal or
    /// project token (`PRIVATE-TOKEN`) or a CI job token (`JOB-TOKEN`).
    public init(transport: RegistryTransport, base: String, privateToken: String? = nil, jobToken: String? = nil) {
        api = APIClient(http: transport.verifying, service: "GitLab API")
        self.base = base
        headers = APIClient.gitLabHeaders(privateToken: privateToken, jobToken: jobToken)
    }

    /// The project and registry repository id for a registry path `group/project[/name]`.
    func locate(_ repository: String) async throws(PierError) -> (project: String, id: Int) {
        var parts = repository.split(separator: "/").map(String.init)
        // The project is a prefix of the path; the rest is the image name inside the project.
        while parts.count >= 2 {
            let project = APIClient.escape(parts.joined(separator: "/"))
            if let answer = try? await api.call(.GET, "\(base)/projects/\(project)/registry/repositories?per_page=100", headers: headers,
                operation: "list registry repositories"),
                let list = answer.json as? [[String: Any]],
                let match = list.first(where: { ($0["path"] as? String) == repository }), let id = match["id"] as? Int
            {
                return (project, id)
            }
            parts.removeLast()
        }
        throw PierError(.notFound, operation: "find registry repository", message: "no GitLab registry repository \(repository)",
            repository: repository)
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        let (project, id) = try await locate(repository)
        _ = try await api.call(.DELETE, "\(base)/projects/\(project)/registry/repositories/\(id)/tags/\(APIClient.escape(tag))",
            headers: headers, operation: "delete tag \(tag)")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        for tag in tags { try await untag(repository: repository, tag: tag, digest: digest) }
    }

    /// The tag list (`GET …/tags?per_page=100`, Link pagination), then each tag's details for `digest` and
    /// `created_at` (the list carries names only).
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        let (project, id) = try await locate(repository)
        let root = "\(base)/projects/\(project)/registry/repositories/\(id)/tags"
        var names: [String] = []
        try await api.pages("\(root)?per_page=100", headers: headers, operation: "list GitLab tags") { answer in
            names += (answer.json as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        var images: [ListedImage] = []
        for name in names {
            let detail = try await api.call(.GET, "\(root)/\(APIClient.escape(name))", headers: headers, operation: "read GitLab tag \(name)")
            guard let json = detail.json as? [String: Any], let digest = (json["digest"] as? String).flatMap({ try? Digest($0) }) else { continue }
            images.append(ListedImage(digest: digest, tags: [name], pushed: (json["created_at"] as? String).flatMap(ImageDate.parse)))
        }
        return images
    }
}

/// Harbor v2 API: untag with `DELETE …/artifacts/{digest}/tags/{tag}`, delete with `DELETE …/artifacts/{digest}`.
/// Repository names with slashes are escaped twice (`a%252Fb`), as Harbor requires.
public struct HarborAPI: ImageListingAPI {
    public let name = "Harbor API"
    public var pushTimeSource: DateSource { .harborPushed }
    public var listsUntagged: Bool { true }
    let api: APIClient
    let base: String
    let authorization: String

    public init(transport: RegistryTransport, base: String, username: String, password: String) {
        api = APIClient(http: transport.verifying, service: "Harbor API")
        self.base = base
        authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    func artifactPath(_ repository: String) -> String {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        let repo = APIClient.escape(APIClient.escape(parts.count == 2 ? parts[1] : repository))
        return "\(base)/api/v2.0/projects/\(parts[0])/repositories/\(repo)/artifacts"
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        _ = try await api.call(.DELETE, "\(artifactPath(repository))/\(digest)/tags/\(APIClient.escape(tag))",
            headers: ["Authorization": authorization], operation: "delete tag \(tag)")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        _ = try await api.call(.DELETE, "\(artifactPath(repository))/\(digest)", headers: ["Authorization": authorization],
            operation: "delete artifact \(digest.short)")
    }

    /// `GET …/artifacts?page_size=100&with_tag=true` (Link pagination): each artifact's `digest`, `push_time` and
    /// `tags[].name`; artifacts without tags are untagged manifests.
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        var images: [ListedImage] = []
        try await api.pages("\(artifactPath(repository))?page_size=100&with_tag=true", headers: ["Authorization": authorization],
            operation: "list Harbor artifacts")
        { answer in
            for artifact in answer.json as? [[String: Any]] ?? [] {
                guard let digest = (artifact["digest"] as? String).flatMap({ try? Digest($0) }) else { continue }
                let tags = (artifact["tags"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                images.append(ListedImage(digest: digest, tags: tags, pushed: (artifact["push_time"] as? String).flatMap(ImageDate.parse)))
            }
        }
        return images
    }
}
