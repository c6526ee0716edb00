import PierModel

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
