import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// GitLab: `DELETE /projects/:id/registry/repositories/:repository_id/tags/:tag_name` (container registry API).
public struct GitLabRegistryAPI: ImageListingAPI {
    public let name = "GitLab container registry API"
    public var deletesByDigest: Bool { false }
    public var pushTimeSource: DateSource { .gitLabCreated }
    public var listsUntagged: Bool { false }
    let api: APIClient
    let base: String
    let headers: HTTPHeaders
    let located = AnswerCache<String, Located>()

    /// `base` is the API root (`CI_API_V4_URL`, e.g. https://gitlab.example.com/api/v4); the token is a personal or
    /// project token (`PRIVATE-TOKEN`) or a CI job token (`JOB-TOKEN`).
    public init(transport: HTTPTransport, base: String, privateToken: String? = nil, jobToken: String? = nil) {
        api = APIClient(transport: transport, service: "GitLab API")
        self.base = base
        headers = APIClient.gitLabHeaders(privateToken: privateToken, jobToken: jobToken)
    }

    /// The project and registry repository id for a registry path `group/project[/name]`, looked up once per run.
    func locate(_ repository: String) async throws(PierError) -> (project: String, id: Int) {
        let found = try await located.value(for: repository) { [api, base, headers] () async throws(PierError) in
            try await Self.find(repository, api: api, base: base, headers: headers)
        }
        return (found.project, found.id)
    }

    /// The project is the longest prefix of the path that GitLab knows (`GET /projects/:id/registry/repositories`,
    /// every page); the rest is the image name inside the project. A prefix that is not a project answers 404 and
    /// the next shorter one is tried; any other refusal (a token without access, a network failure) is the answer.
    static func find(_ repository: String, api: APIClient, base: String, headers: HTTPHeaders) async throws(PierError)
        -> Located
    {
        var parts = repository.split(separator: "/").map(String.init)
        while parts.count >= 2 {
            let project = APIClient.escape(parts.joined(separator: "/"))
            var id: Int?
            do throws(PierError) {
                try await api.pages(
                    "\(base)/projects/\(project)/registry/repositories?per_page=\(APIClient.pageSize)",
                    headers: headers,
                    operation: "list registry repositories"
                ) { answer in
                    let list = answer.json as? [[String: Any]] ?? []
                    id = id ?? list.first(where: { ($0["path"] as? String) == repository })?["id"] as? Int
                }
            } catch  where error.kind == .notFound {
                id = nil
            }
            if let id { return Located(project: project, id: id) }
            parts.removeLast()
        }
        throw PierError(
            .notFound, operation: "find registry repository", message: "no GitLab registry repository \(repository)",
            repository: repository)
    }

    /// A registry repository's project (escaped for a path) and id.
    struct Located: Sendable {
        var project: String
        var id: Int
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        let (project, id) = try await locate(repository)
        _ = try await api.call(
            .DELETE, "\(base)/projects/\(project)/registry/repositories/\(id)/tags/\(APIClient.escape(tag))",
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
        try await api.pages("\(root)?per_page=\(APIClient.pageSize)", headers: headers, operation: "list GitLab tags") {
            answer in
            names += (answer.json as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        var images: [ListedImage] = []
        for name in names {
            let detail = try await api.call(
                .GET, "\(root)/\(APIClient.escape(name))", headers: headers, operation: "read GitLab tag \(name)")
            guard let json = detail.json as? [String: Any],
                let digest = (json["digest"] as? String).flatMap({ try? Digest($0) })
            else { continue }
            images.append(
                ListedImage(
                    digest: digest, tags: [name], pushed: (json["created_at"] as? String).flatMap(ImageDate.parse)))
        }
        return images
    }
}
