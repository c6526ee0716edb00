import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

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

    public init(
        transport: HTTPTransport, token: String, base: String = "https://api.github.com",
        retry: RetryPolicy = RetryPolicy()
    ) {
        api = APIClient(transport: transport, service: "GitHub API", retry: retry)
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
        func set(_ repository: String, _ value: (path: String, versions: [Digest: Version])) {
            listed[repository] = value
        }
        func remove(_ repository: String, _ digest: Digest) { listed[repository]?.versions[digest] = nil }
    }

    /// `org/app/sub` → owner `org`, package `app/sub` (escaped as one path segment).
    func paths(_ repository: String) -> [String] {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return [] }
        let package = APIClient.escape(parts[1])
        return [
            "\(base)/orgs/\(parts[0])/packages/container/\(package)",
            "\(base)/users/\(parts[0])/packages/container/\(package)",
        ]
    }

    /// The versions of `repository`, from the org path or else the user path; listed once, then from the index.
    func index(_ repository: String) async throws(PierError) -> (path: String, versions: [Digest: Version]) {
        if let known = await versions.get(repository) { return known }
        for path in paths(repository) {
            var found: [Digest: Version] = [:]
            do {
                try await api.pages(
                    "\(path)/versions?per_page=\(APIClient.pageSize)", headers: headers,
                    operation: "list package versions"
                ) { answer in
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
        throw PierError(
            .notFound, operation: "list package versions", message: "no container package \(repository)",
            registry: "ghcr.io", repository: repository, hint: "the token needs read:packages and delete:packages")
    }

    /// A version entry: `id`, `name` (the digest), `metadata.container.tags`, and the later of `created_at` and
    /// `updated_at` (a version is updated when a tag is pushed onto it again).
    static func version(_ entry: [String: Any]) -> Version? {
        guard let id = entry["id"] as? Int, let digest = (entry["name"] as? String).flatMap({ try? Digest($0) }) else {
            return nil
        }
        let tags = ((entry["metadata"] as? [String: Any])?["container"] as? [String: Any])?["tags"] as? [String] ?? []
        let dates = ["created_at", "updated_at"].compactMap { (entry[$0] as? String).flatMap(ImageDate.parse) }
        return Version(id: id, image: ListedImage(digest: digest, tags: tags, pushed: dates.max()))
    }

    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        try await index(repository).versions.values.map(\.image)
    }

    public func untag(repository: String, tag: String, digest: Digest) async throws(PierError) {
        throw PierError(
            .unsupported, operation: "untag \(tag)",
            message: "GHCR cannot remove one tag of an image that other tags keep",
            registry: "ghcr.io", repository: repository, reference: tag,
            hint: "delete the tags that share it too, or keep this tag")
    }

    public func deleteImage(repository: String, digest: Digest, tags: [String]) async throws(PierError) {
        let (path, known) = try await index(repository)
        guard let version = known[digest] else {
            throw PierError(
                .notFound, operation: "delete \(digest.short)",
                message: "no package version \(digest.short) in \(repository)",
                registry: "ghcr.io", repository: repository)
        }
        _ = try await api.call(
            .DELETE, "\(path)/versions/\(version.id)", headers: headers,
            operation: "delete package version \(digest.short)")
        await versions.remove(repository, digest)
    }
}
