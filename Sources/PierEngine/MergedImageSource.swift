import PierModel

/// The image `ImageMerger` made: a new index over the children of several sources. Manifests were read (and
/// checked against their digests) while merging; blobs are read from the source that holds them.
public struct MergedImageSource: ImageSource {
    let index: ManifestBlob
    let sources: [any ImageSource]
    let manifests: [Digest: ManifestBlob]
    let blobOwners: [Digest: Int]
    /// The platforms of the merged images, in index order.
    public let platforms: [String]

    init(
        root: ManifestBlob, sources: [any ImageSource], manifests: [Digest: ManifestBlob], blobOwners: [Digest: Int],
        platforms: [String]
    ) {
        self.index = root
        self.sources = sources
        self.manifests = manifests
        self.blobOwners = blobOwners
        self.platforms = platforms
    }

    public var name: String { "merge of " + sources.map(\.name).joined(separator: " + ") }
    public var tag: String? { nil }
    public var registryRepository: (registry: String, repository: String)? { nil }

    public func root() async throws(PierError) -> ManifestBlob { index }

    public func manifest(_ descriptor: Descriptor) async throws(PierError) -> ManifestBlob {
        guard let manifest = manifests[descriptor.digest] else {
            throw PierError(
                .notFound, operation: "read merged image",
                message: "no source holds manifest \(descriptor.digest.short)", registry: name)
        }
        return manifest
    }

    public func blob(_ descriptor: Descriptor, progress: (@Sendable (Int) -> Void)?) async throws(PierError) -> BlobFile
    {
        guard let owner = blobOwners[descriptor.digest] else {
            throw PierError(
                .notFound, operation: "read merged image", message: "no source holds blob \(descriptor.digest.short)",
                registry: name)
        }
        return try await sources[owner].blob(descriptor, progress: progress)
    }

    /// Closes every source.
    public func close() async {
        for source in sources { await source.close() }
    }
}
