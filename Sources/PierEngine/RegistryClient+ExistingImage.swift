import PierModel
import PierRegistry

extension RegistryClient {
    /// The head of `image`'s manifest, or the not-found error every command that reads one image gives when the
    /// registry has none: `… does not exist`, rather than the registry's raw `404 MANIFEST_UNKNOWN`.
    public func existingManifestHead(_ image: ImageReference, operation: String) async throws(PierError)
        -> ManifestHead
    {
        guard let head = try await manifestHead(repository: image.repository, reference: image.manifestReference)
        else {
            throw PierError(
                .notFound, operation: operation, message: "\(image) does not exist", registry: image.registry,
                repository: image.repository, reference: image.manifestReference)
        }
        return head
    }
}
