import PierModel
import PierRegistry

/// `pier referrers IMAGE`: what hangs off an image (its root and every child manifest), recursively, and where
/// each was found: the referrers API, the fallback index tag, or a cosign-style tag.
public struct ReferrersOperation: Sendable {
    public let image: ImageReference
    public let selection: ReferrerSelection

    /// Parses the image before any network I/O.
    public init(image: String, settings: Settings) throws(PierError) {
        self.image = try ImageReference(parsing: image)
        selection = ReferrerSelection(artifactTypes: settings.referrers.artifactTypes)
    }

    /// Subjects before their referrers.
    public func run(session: Session) async throws(PierError) -> [Referrer] {
        let client = await session.store.client(for: image.registry)
        _ = try await client.existingManifestHead(image, operation: "list referrers")
        let source = try RegistryImageSource(reference: image, client: client)
        defer { Task { await source.close() } }
        let graph = try await ImageGraph.load(root: try await source.root(), from: source)
        let discovery = ReferrerDiscovery(
            client: client, repository: image.repository, selection: selection, logger: session.logger)
        return try await discovery.discover(subjects: graph.manifests.map(\.digest)).map(\.referrer)
    }
}
