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
    /// Removes one tag, leaving the image and its other tags.
    func untag(repository: String, tag: String, digest: Digest) async throws(PierError)
    /// Removes an image and every tag on it. `tags` are the tags the caller knows point at it.
    func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError)
}

/// A small JSON-over-HTTPS helper for the management APIs, sharing pier's transport (TLS settings, pools).
struct APIClient: Sendable {
    let http: HTTPClient
    let service: String

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
        if let json, let data = try? JSONSerialization.data(withJSONObject: json) {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: data))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let answer: Answer
        do {
            let response = try await http.execute(request, timeout: TimeAmount(Self.answerDeadline))
            let bytes = Array(buffer: try await response.body.collect(upTo: Self.answerLimit, within: Self.answerDeadline))
            answer = Answer(status: Int(response.status.code), headers: response.headers, body: bytes)
        } catch {
            throw PierError(.network, operation: operation, message: "cannot reach \(service)", registry: URLComponents(string: url)?.host,
                cause: RegistryClient.shortCause("\(error)"))
        }
        guard accept.contains(answer.status) else {
            let text = String(decoding: answer.body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            let kind: PierError.Kind
            switch answer.status {
            case 401, 403: kind = .auth
            case 404: kind = .notFound
            case 405, 501: kind = .unsupported
            case 429, 500...599: kind = .network
            default: kind = .other
            }
            throw PierError(kind, operation: operation, message: "\(service) answered \(answer.status): \(text)",
                registry: URLComponents(string: url)?.host, status: answer.status)
        }
        return answer
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
public struct DockerHubAPI: TagDeletionAPI {
    public let name = "Docker Hub API"
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
}

/// GHCR through the GitHub REST API: a package version is a digest; deleting it removes the image and its tags
/// (`DELETE /orgs/ORG/packages/container/NAME/versions/ID`, or `/users/USER/…`). GitHub cannot remove one tag.
public struct GitHubPackagesAPI: TagDeletionAPI {
    public let name = "GitHub packages API"
    let api: APIClient
    let base: String
    let token: String

    public init(transport: RegistryTransport, token: String, base: String = "https://api.github.com") {
        api = APIClient(http: transport.verifying, service: "GitHub API")
        self.base = base
        self.token = token
    }

    var headers: HTTPHeaders { APIClient.gitHubHeaders(token: token) }

    /// `org/app/sub` → owner `org`, package `app/sub` (escaped as one path segment).
    func paths(_ repository: String) -> [String] {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return [] }
        let package = APIClient.escape(parts[1])
        return ["\(base)/orgs/\(parts[0])/packages/container/\(package)", "\(base)/users/\(parts[0])/packages/container/\(package)"]
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        throw PierError(.unsupported, operation: "untag \(tag)", message: "GHCR cannot remove one tag of an image that other tags keep",
            registry: "ghcr.io", repository: repository, reference: tag, hint: "delete the tags that share it too, or keep this tag")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        for path in paths(repository) {
            // Versions are paginated (per_page ≤ 100, Link rel=next).
            var url: String? = "\(path)/versions?per_page=100"
            var pages = 0
            while let next = url, pages < 1000 {
                pages += 1
                let answer: APIClient.Answer
                do { answer = try await api.call(.GET, next, headers: headers, operation: "list package versions") } catch {
                    if error.kind == .notFound { break }
                    throw error
                }
                for version in answer.json as? [[String: Any]] ?? [] where version["name"] as? String == digest.description {
                    guard let id = version["id"] as? Int else { continue }
                    _ = try await api.call(.DELETE, "\(path)/versions/\(id)", headers: headers, operation: "delete package version \(digest.short)")
                    return
                }
                url = answer.headers.first(name: "Link").flatMap(RegistryClient.nextLink).map { RegistryClient.resolve($0, against: next) }
            }
        }
        throw PierError(.notFound, operation: "delete \(digest.short)", message: "no package version \(digest.short) in \(repository)",
            registry: "ghcr.io", repository: repository)
    }
}

/// GitLab: `DELETE /projects/:id/registry/repositories/:repository_id/tags/:tag_name` (container registry API).
public struct GitLabRegistryAPI: TagDeletionAPI {
    public let name = "GitLab container registry API"
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
}

/// Harbor v2 API: untag with `DELETE …/artifacts/{digest}/tags/{tag}`, delete with `DELETE …/artifacts/{digest}`.
/// Repository names with slashes are escaped twice (`a%252Fb`), as Harbor requires.
public struct HarborAPI: TagDeletionAPI {
    public let name = "Harbor API"
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
}
