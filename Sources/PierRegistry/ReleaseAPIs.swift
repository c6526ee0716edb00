import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PierModel

/// What a release call did.
public struct ReleaseResult: Sendable, Codable, Equatable {
    /// "created" or "updated".
    public var action: String
    public var url: String?
}

/// GitHub Releases (REST API 2022-11-28): find the release for the tag, then update it, or create it.
/// Idempotent: a rerun updates, never duplicates.
public struct GitHubReleasesAPI: Sendable {
    let api: APIClient
    let base: String
    let token: String
    /// `owner/repo`.
    let repository: String

    public init(transport: RegistryTransport, token: String, repository: String, base: String = "https://api.github.com") {
        api = APIClient(http: transport.verifying, service: "GitHub API")
        self.token = token
        self.repository = repository
        self.base = base
    }

    var headers: HTTPHeaders { APIClient.gitHubHeaders(token: token) }

    public func publish(tag: String, name: String, body: String, prerelease: Bool) async throws(PierError) -> ReleaseResult {
        let existing: APIClient.Answer?
        do {
            existing = try await api.call(.GET, "\(base)/repos/\(repository)/releases/tags/\(APIClient.escape(tag))", headers: headers,
                operation: "find GitHub release \(tag)")
        } catch {
            guard error.kind == .notFound else { throw error }
            existing = nil
        }
        if let existing, let id = (existing.json as? [String: Any])?["id"] as? Int {
            let answer = try await api.call(.PATCH, "\(base)/repos/\(repository)/releases/\(id)", headers: headers,
                json: ["name": name, "body": body, "prerelease": prerelease], operation: "update GitHub release \(tag)")
            return ReleaseResult(action: "updated", url: (answer.json as? [String: Any])?["html_url"] as? String)
        }
        let answer = try await api.call(.POST, "\(base)/repos/\(repository)/releases", headers: headers,
            json: ["tag_name": tag, "name": name, "body": body, "prerelease": prerelease, "draft": false],
            operation: "create GitHub release \(tag)")
        return ReleaseResult(action: "created", url: (answer.json as? [String: Any])?["html_url"] as? String)
    }
}

/// GitLab Releases API: `GET/PUT/POST /projects/:id/releases[/:tag_name]`, with a job token or a private token.
public struct GitLabReleasesAPI: Sendable {
    let api: APIClient
    let base: String
    let project: String
    let headers: HTTPHeaders

    public init(transport: RegistryTransport, base: String, project: String, privateToken: String?, jobToken: String?) {
        api = APIClient(http: transport.verifying, service: "GitLab API")
        self.base = base
        self.project = APIClient.escape(project)
        headers = APIClient.gitLabHeaders(privateToken: privateToken, jobToken: jobToken)
    }

    public func publish(tag: String, name: String, body: String) async throws(PierError) -> ReleaseResult {
        let path = "\(base)/projects/\(project)/releases"
        var exists = true
        do { _ = try await api.call(.GET, "\(path)/\(APIClient.escape(tag))", headers: headers, operation: "find GitLab release \(tag)") } catch {
            guard error.kind == .notFound else { throw error }
            exists = false
        }
        if exists {
            _ = try await api.call(.PUT, "\(path)/\(APIClient.escape(tag))", headers: headers, json: ["name": name, "description": body],
                operation: "update GitLab release \(tag)")
            return ReleaseResult(action: "updated", url: nil)
        }
        _ = try await api.call(.POST, path, headers: headers, json: ["tag_name": tag, "name": name, "description": body],
            operation: "create GitLab release \(tag)")
        return ReleaseResult(action: "created", url: nil)
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
            throw PierError(.usage, operation: "describe \(repository)",
                message: "the short description is \(short.count) characters; Docker Hub allows \(Self.shortLimit)")
        }
        if let full, full.utf8.count > Self.fullLimit {
            throw PierError(.usage, operation: "describe \(repository)",
                message: "the full description is \(full.utf8.count) bytes; Docker Hub allows \(Self.fullLimit)")
        }
        var body: [String: String] = [:]
        if let short { body["description"] = short }
        if let full { body["full_description"] = full }
        guard !body.isEmpty else {
            throw PierError(.usage, operation: "describe \(repository)", message: "nothing to set", hint: "pass --short and/or --readme")
        }
        let jwt = try await token()
        _ = try await api.call(.PATCH, "\(base)/v2/repositories/\(repository)/", headers: ["Authorization": "JWT \(jwt)"], json: body,
            operation: "describe \(repository)")
    }
}
