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
