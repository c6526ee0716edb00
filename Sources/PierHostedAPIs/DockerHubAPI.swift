import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

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
    /// One login per run: the Hub's JWT is good for the whole run's deletes and listings.
    let session = AnswerCache<String, String>()

    public init(transport: HTTPTransport, username: String, password: String, base: String = "https://hub.docker.com") {
        api = APIClient(transport: transport, service: "Docker Hub")
        self.base = base
        self.username = username
        self.password = password
    }

    /// The run's JWT, logging in on first use.
    func token() async throws(PierError) -> String {
        try await session.value(for: username) { [api, base, username, password] () async throws(PierError) in
            try await Self.logIn(api: api, base: base, username: username, password: password)
        }
    }

    /// `POST /v2/users/login` with the username and password (or personal access token).
    static func logIn(api: APIClient, base: String, username: String, password: String) async throws(PierError)
        -> String
    {
        let answer = try await api.call(
            .POST, "\(base)/v2/users/login", json: ["username": username, "password": password],
            operation: "log in to Docker Hub")
        guard let token = (answer.json as? [String: Any])?["token"] as? String else {
            throw PierError(.auth, operation: "log in to Docker Hub", message: "the answer has no token")
        }
        return token
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        _ = try await authorized(
            .DELETE, "\(base)/v2/repositories/\(repository)/tags/\(APIClient.escape(tag))/",
            operation: "delete tag \(tag)")
    }

    /// A call with the run's JWT; when the Hub refuses it (it expired during a long run), one fresh login and one
    /// more try.
    func authorized(_ method: HTTPMethod, _ url: String, json: Any? = nil, operation: String) async throws(PierError)
        -> APIClient.Answer
    {
        var fresh = false
        while true {
            let jwt = try await token()
            do {
                return try await api.call(
                    method, url, headers: ["Authorization": "JWT \(jwt)"], json: json, operation: operation)
            } catch {
                guard error.status == 401, !fresh else { throw error }
                await session.forget(username)
                fresh = true
            }
        }
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        for tag in tags { try await untag(repository: repository, tag: tag, digest: digest) }
    }

    /// `GET /v2/namespaces/NS/repositories/REPO/tags?page_size=100` (Hub API "List repository tags"): each tag with
    /// its `digest` and `tag_last_pushed`, paginated by `next`.
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return [] }
        var images: [ListedImage] = []
        let operation = "list Docker Hub tags"
        var url: String? =
            "\(base)/v2/namespaces/\(parts[0])/repositories/\(parts[1])/tags?page_size=\(APIClient.pageSize)"
        var seen = Set(url.map { [$0] } ?? [])
        while let next = url {
            let page = try await authorized(.GET, next, operation: operation).json as? [String: Any]
            for tag in page?["results"] as? [[String: Any]] ?? [] {
                guard let name = tag["name"] as? String,
                    let digest = (tag["digest"] as? String).flatMap({ try? Digest($0) })
                else { continue }
                images.append(
                    ListedImage(
                        digest: digest, tags: [name],
                        pushed: (tag["tag_last_pushed"] as? String).flatMap(ImageDate.parse)))
            }
            // The listing must be whole: prune acts on it (APIClient.nextPage).
            url = try api.nextPage(
                page?["next"] as? String, after: next, seen: &seen, maximumPages: APIClient.maximumPages,
                operation: operation)
        }
        return images
    }
}

extension DockerHubAPI {
    /// Docker Hub's limits: the short description at most 100 characters, the full one at most 25,000 bytes.
    public static let shortLimit = 100
    public static let fullLimit = 25_000

    /// Sets a repository's short and/or full description (`PATCH /v2/repositories/NS/REPO/`), after checking the
    /// limits locally so nothing is sent that the Hub would cut or refuse.
    public func describe(repository: String, short: String?, full: String?) async throws(PierError) {
        if let short, short.count > Self.shortLimit {
            throw PierError(
                .usage, operation: "describe \(repository)",
                message: "the short description is \(short.count) characters; Docker Hub allows \(Self.shortLimit)")
        }
        if let full, full.utf8.count > Self.fullLimit {
            throw PierError(
                .usage, operation: "describe \(repository)",
                message: "the full description is \(full.utf8.count) bytes; Docker Hub allows \(Self.fullLimit)")
        }
        var body: [String: String] = [:]
        if let short { body["description"] = short }
        if let full { body["full_description"] = full }
        guard !body.isEmpty else {
            throw PierError(
                .usage, operation: "describe \(repository)", message: "nothing to set",
                hint: "pass --short and/or --readme")
        }
        _ = try await authorized(
            .PATCH, "\(base)/v2/repositories/\(repository)/", json: body, operation: "describe \(repository)")
    }
}
