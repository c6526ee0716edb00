import NIOHTTP1
import PierHTTP
import PierModel

/// GitLab Releases API: `GET/PUT/POST /projects/:id/releases[/:tag_name]`, with a job token or a private token.
public struct GitLabReleasesAPI: Sendable {
    let api: APIClient
    let base: String
    let project: String
    let headers: HTTPHeaders

    public init(transport: HTTPTransport, base: String, project: String, privateToken: String?, jobToken: String?) {
        api = APIClient(transport: transport, service: "GitLab API")
        self.base = base
        self.project = APIClient.escape(project)
        headers = APIClient.gitLabHeaders(privateToken: privateToken, jobToken: jobToken)
    }

    public func publish(tag: String, name: String, body: String) async throws(PierError) -> ReleaseResult {
        let path = "\(base)/projects/\(project)/releases"
        var exists = true
        do {
            _ = try await api.call(
                .GET, "\(path)/\(APIClient.escape(tag))", headers: headers, operation: "find GitLab release \(tag)")
        } catch {
            guard error.kind == .notFound else { throw error }
            exists = false
        }
        if exists {
            _ = try await api.call(
                .PUT, "\(path)/\(APIClient.escape(tag))", headers: headers, json: ["name": name, "description": body],
                operation: "update GitLab release \(tag)")
            return ReleaseResult(action: .updated, url: nil)
        }
        _ = try await api.call(
            .POST, path, headers: headers, json: ["tag_name": tag, "name": name, "description": body],
            operation: "create GitLab release \(tag)", repeatability: .createsOnce)
        return ReleaseResult(action: .created, url: nil)
    }
}
