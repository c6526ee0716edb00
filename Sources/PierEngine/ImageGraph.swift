import PierModel

/// Everything an image consists of: the root, every child manifest (children before parents), every blob once.
public struct ImageGraph: Sendable {
    public var root: ManifestBlob
    /// Child manifests in push order: leaves first, the root not included.
    public var children: [ManifestBlob]
    /// Distinct blobs (configs and layers) of every image manifest.
    public var blobs: [Descriptor]

    /// How deep indexes may nest before pier calls the image hostile.
    public static let maximumDepth = 4

    /// Walks `root` through `source`, refusing cycles and absurd nesting.
    public static func load(root: ManifestBlob, from source: any ImageSource) async throws(PierError) -> ImageGraph {
        var children: [ManifestBlob] = []
        var blobs: [Descriptor] = []
        var seenBlobs: Set<Digest> = []
        var seenManifests: Set<Digest> = [root.digest]

        func visit(_ manifest: ManifestBlob, depth: Int, path: [Digest]) async throws(PierError) {
            if manifest.isIndex {
                guard depth < maximumDepth else {
                    throw PierError(
                        .invalidInput, operation: "read image",
                        message: "indexes nest deeper than \(maximumDepth) levels",
                        registry: source.name)
                }
                for entry in manifest.document.manifests ?? [] {
                    guard !path.contains(entry.digest) else {
                        throw PierError(
                            .invalidInput, operation: "read image",
                            message: "index \(manifest.digest.short) refers to itself",
                            registry: source.name)
                    }
                    guard MediaType.isManifest(entry.mediaType) else {
                        // Artifacts in an index (non-manifest media types) are blobs to copy as they are.
                        if seenBlobs.insert(entry.digest).inserted { blobs.append(entry) }
                        continue
                    }
                    guard seenManifests.insert(entry.digest).inserted else { continue }
                    let child = try await source.manifest(entry)
                    try await visit(child, depth: depth + 1, path: path + [entry.digest])
                    children.append(child)
                }
            } else {
                for blob in manifest.document.blobs where seenBlobs.insert(blob.digest).inserted { blobs.append(blob) }
            }
        }
        try await visit(root, depth: 0, path: [root.digest])
        return ImageGraph(root: root, children: children, blobs: blobs)
    }

    /// All manifests, children first, root last.
    public var manifests: [ManifestBlob] { children + [root] }

    /// Total bytes of all blobs, saturating at `Int64.max` (the sizes come from manifests someone else wrote).
    public var blobBytes: Int64 {
        (try? Descriptor.totalSize(of: blobs, what: "blob", source: root.digest.short)) ?? .max
    }

    /// Picks the child of an index for `platform`, skipping attestation entries.
    public static func select(_ platform: Platform, in index: ManifestBlob, from source: any ImageSource)
        async throws(PierError)
        -> ManifestBlob
    {
        guard index.isIndex else { return index }
        let entries = (index.document.manifests ?? []).filter { !($0.platform?.isUnknown ?? false) }
        guard let match = entries.first(where: { $0.platform.map(platform.matches) ?? false }) else {
            let available = entries.compactMap { $0.platform?.description }
            throw PierError(
                .notFound, operation: "select platform", message: "no \(platform) image in \(source.name)",
                registry: source.name,
                hint: available.isEmpty ? nil : "platforms here: \(available.joined(separator: ", "))")
        }
        return try await source.manifest(match)
    }
}
