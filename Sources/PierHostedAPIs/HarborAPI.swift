import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// Harbor v2 API: untag with `DELETE …/artifacts/{digest}/tags/{tag}`, delete with `DELETE …/artifacts/{digest}`.
/// Repository names with slashes are escaped twice (`a%252Fb`), as Harbor requires.
public struct HarborAPI: ImageListingAPI {
    public let name = "Harbor API"
    public var pushTimeSource: DateSource { .harborPushed }
    public var listsUntagged: Bool { true }
    let api: APIClient
    let base: String
    let authorization: String

    public init(transport: HTTPTransport, base: String, username: String, password: String) {
        api = APIClient(transport: transport, service: "Harbor API")
        self.base = base
        authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    func artifactPath(_ repository: String) -> String {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        let repo = APIClient.escape(APIClient.escape(parts.count == 2 ? parts[1] : repository))
        return "\(base)/api/v2.0/projects/\(parts[0])/repositories/\(repo)/artifacts"
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        _ = try await api.call(
            .DELETE, "\(artifactPath(repository))/\(digest)/tags/\(APIClient.escape(tag))",
            headers: ["Authorization": authorization], operation: "delete tag \(tag)")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        _ = try await api.call(
            .DELETE, "\(artifactPath(repository))/\(digest)", headers: ["Authorization": authorization],
            operation: "delete artifact \(digest.short)")
    }

    /// `GET …/artifacts?page_size=100&with_tag=true` (Link pagination): each artifact's `digest`, `push_time` and
    /// `tags[].name`; artifacts without tags are untagged manifests.
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        var images: [ListedImage] = []
        try await api.pages(
            "\(artifactPath(repository))?page_size=\(APIClient.pageSize)&with_tag=true",
            headers: ["Authorization": authorization],
            operation: "list Harbor artifacts"
        ) { answer in
            for artifact in answer.json as? [[String: Any]] ?? [] {
                guard let digest = (artifact["digest"] as? String).flatMap({ try? Digest($0) }) else { continue }
                let tags = (artifact["tags"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                images.append(
                    ListedImage(
                        digest: digest, tags: tags, pushed: (artifact["push_time"] as? String).flatMap(ImageDate.parse))
                )
            }
        }
        return images
    }
}
